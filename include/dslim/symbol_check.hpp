#pragma once
// Will the loader accept the closure it found? Symbol versions (glibc refuses
// to start a program whose DT_VERNEED a library's DT_VERDEF does not meet:
// "version `GLIBC_2.34' not found") and undefined symbols no object of the
// closure defines (the musl form of the same failure, and glibc's "symbol
// lookup error"), checked against the objects the resolver found in the
// source, before an image ships.
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <memory_resource>
#include <string>
#include <vector>

#include "dslim/elf_symbols.hpp"
#include "dslim/huge_page_arena.hpp"
#include "dslim/resolver.hpp"
#include "dslim/rootfs.hpp"

namespace dslim::resolve {

// A symbol some object imports, by name and version: each distinct one is
// kept once for the whole graph (ffmpeg's 215 objects import 23k symbols,
// 9k distinct), and looked up once.
struct Wanted {
  uint32_t hash31 = 0;   // GNU hash of the name >> 1
  uint32_t name = 0;     // offset in GraphSymbols' string pool
  uint32_t version = 0;  // offset of the version's name there; kUnversioned when none
  uint32_t next = 0;     // the next wanted symbol in the same hash slot
  static constexpr uint32_t kUnversioned = ~uint32_t{0};
};

// An undefined symbol of an object.
struct Import {
  uint32_t wanted = 0;  // index in GraphSymbols::wanted()
  uint16_t versym = 0;  // its .gnu.version entry
  bool weak = false;    // a weak reference never fails
};

// An object's symbol table, read once, and its imports.
struct ObjectSymbols {
  explicit ObjectSymbols(std::pmr::memory_resource* memory) : table(memory), imports(memory) {}
  elf::SymbolTable table;
  std::pmr::vector<Import> imports;
  const elf::Versions& versions() const { return table.versions(); }
};

// The symbols of a graph's objects, read once each (index = node).
class GraphSymbols {
 public:
  GraphSymbols();
  // Reads the objects added to `graph` since the last call: in-root objects
  // through `fs`, programs from this machine by their host path; a program
  // with neither (the stand-in for run-time dlopens) has no symbols.
  void read(const Graph& graph, const rootfs::RootFs& fs);
  const ObjectSymbols& of(size_t node) const { return objects_[node]; }
  size_t size() const { return objects_.size(); }

  const std::pmr::vector<Wanted>& wanted() const { return wanted_; }
  // Where the check's own working memory comes from: the same arena.
  std::pmr::memory_resource* memory() const { return arena_.get(); }
  std::string_view name(const Import& import) const { return pooled(wanted_[import.wanted].name); }
  std::string_view name(const Wanted& wanted) const { return pooled(wanted.name); }
  std::string_view version(const Wanted& wanted) const {
    return wanted.version == Wanted::kUnversioned ? std::string_view() : pooled(wanted.version);
  }
  // Whether `wanted` is named `name`, without measuring its name first.
  bool named(const Wanted& wanted, std::string_view name) const {
    return pool_.compare(wanted.name, name.size(), name) == 0 &&
           pool_[wanted.name + name.size()] == '\0';
  }
  // False when no wanted symbol has the hash: a 64 KB filter, so that most
  // of a closure's 100k definitions are passed over without a lookup.
  bool may_want(uint32_t hash31) const {
    return (filter_[(hash31 >> 6) & (kFilterWords - 1)] >> (hash31 & 63)) & 1;
  }
  // Calls f(index) for each wanted symbol whose hash is `hash31`.
  template <typename F>
  void for_each_wanted(uint32_t hash31, F&& f) const {
    if (slots_.empty()) return;
    for (uint32_t w = slots_[hash31 & (slots_.size() - 1)]; w != kEnd; w = wanted_[w].next) {
      if (wanted_[w].hash31 == hash31) f(w);
    }
  }

 private:
  static constexpr uint32_t kEnd = ~uint32_t{0};
  static constexpr size_t kFilterWords = 8192;
  std::string_view pooled(uint32_t at) const { return pool_.data() + at; }
  uint32_t intern(std::string_view name, uint32_t version);
  uint32_t pool(std::string_view text);
  void rehash(size_t slots);

  // First: the containers below hold memory from it. The tables of a
  // closure are kept whole (5.7 MB for ffmpeg's): fresh memory was the
  // largest cost of reading them, until it came in huge pages.
  std::unique_ptr<HugePageArena> arena_;
  std::deque<ObjectSymbols> objects_;  // stable: tables point into their own buffers
  std::pmr::vector<Wanted> wanted_;
  std::pmr::vector<uint32_t> slots_;   // hash slot -> first wanted symbol, chained by Wanted::next
  std::pmr::vector<uint64_t> filter_;  // one bit per hash
  std::pmr::string pool_;              // names and versions, each NUL-terminated
  std::map<std::string, uint32_t, std::less<>> versions_;  // version name -> pooled offset
  std::pmr::vector<Import> imports_;                       // one object's, before they are kept
};

enum class SymbolIssue {
  MissingVersion,  // a DT_VERNEED version the providing library does not define
  MissingSymbol,   // an undefined symbol (of that version) no object defines
  NoVersionInfo,   // the providing library has no DT_VERDEF at all (glibc warns)
};

struct SymbolProblem {
  SymbolIssue issue = SymbolIssue::MissingSymbol;
  bool error = true;     // false: a warning (the program may never take that path)
  std::string object;    // the object that needs it (its in-root path, or the program's)
  std::string symbol;    // "" when no symbol names the version
  std::string version;   // "" when unversioned
  std::string library;   // the file the version is needed from ("libc.so.6"), "" when unversioned
  std::string provider;  // in-root path of the object found for `library`
  std::vector<std::string> provider_versions;  // what `provider` defines, in its order
  std::vector<std::string> searched;           // unversioned: the objects that were looked in
};

// The problems of every program's closure (a dlopen'ed program's includes
// the first entry program's objects, which serve its symbols at run time).
// Errors: a version the loader cannot meet (any object); a symbol missing
// for an entry program, or for any object under musl (which binds every
// symbol at start). Warnings: a symbol a glibc library lacks (bound lazily:
// a library may expect its host program to define it), a library without
// version information. Sorted: errors first, each once.
std::vector<SymbolProblem> check_symbols(const Graph& graph, const GraphSymbols& symbols);

}  // namespace dslim::resolve
