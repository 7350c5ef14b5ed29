#pragma once
// One loader's breadth-first walk over one program's dependencies: the state
// both loaders share (loaded objects, names, the queue). The search order
// itself is a LoaderRules, one per loader (glibc_rules.cpp, musl_rules.cpp).
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "dslim/resolver.hpp"
#include "dslim/rootfs.hpp"

namespace dslim::resolve {

constexpr size_t kNoNode = static_cast<size_t>(-1);

// Upper bound on objects in one program's closure; a real one has a few hundred.
constexpr size_t kMaxObjects = 4096;

// A file a search step may open.
struct Candidate {
  rootfs::Resolved where;
  std::string path;  // as the loader would name it (before symlinks)
  elf::ElfInfo info;
};

// Outcome of one search step: either a node, or the directories it tried.
struct Found {
  size_t node = kNoNode;               // an already-loaded object reused
  std::optional<Candidate> candidate;  // or a new file
  FoundBy by = FoundBy::DefaultDir;
  std::string search_dir;
  std::vector<std::string> variants;  // glibc-hwcaps builds of the same library

  static Found reuse(size_t node) {
    Found f;
    f.node = node;
    return f;
  }
  static Found file(Candidate c, FoundBy by, std::string dir = {},
                    std::vector<std::string> variants = {}) {
    Found f;
    f.candidate = std::move(c);
    f.by = by;
    f.search_dir = std::move(dir);
    f.variants = std::move(variants);
    return f;
  }
};

class Walk;

class LoaderRules {
 public:
  virtual ~LoaderRules() = default;
  // Adds the interpreter (and anything the loader has loaded before the
  // program's dependencies) to the walk.
  virtual void start(Walk& walk, size_t program) = 0;
  // Finds `name` needed by `requester`; appends each directory tried to
  // `searched`. nullopt when the loader would fail.
  virtual std::optional<Found> find(Walk& walk, const std::string& name, size_t requester,
                                    std::vector<std::string>& searched) = 0;
  // Explains a miss where possible (e.g. a directory of ld.so.conf holds it).
  virtual std::string hint(Walk& walk, const std::string& name) = 0;
};

class Walk {
 public:
  // `shared_nodes` maps real paths to nodes across the walks of several
  // programs, so one file is one node in the graph.
  Walk(const rootfs::RootFs& fs, const Options& options, Graph& graph, const elf::ElfInfo& arch,
       std::map<std::string, size_t>& shared_nodes);

  size_t add_program(const Program& program);
  // Runs the walk for the program added as node `program`.
  void run(LoaderRules& rules, size_t program);

  const rootfs::RootFs& fs() const { return fs_; }
  const Options& options() const { return options_; }
  Graph& graph() { return graph_; }
  const elf::ElfInfo& arch() const { return arch_; }

  // Opens `path` as a candidate: nullopt when absent or not a regular file.
  // A candidate of another class or machine is reported through `wrong_arch`
  // (the loader skips it and goes on). A corrupt file throws, as it does for
  // the loader.
  std::optional<Candidate> open_candidate(const std::string& path, bool* wrong_arch = nullptr);

  // Tries `name` in each directory in order, each with its glibc-hwcaps
  // subdirectories first when `hwcaps`; the first compatible file wins.
  std::optional<Found> search_dirs(const std::string& name, const std::vector<std::string>& dirs,
                                   FoundBy by, bool hwcaps, std::vector<std::string>& searched);

  // A loaded object that `name` names (by request name, path or SONAME).
  size_t loaded(const std::string& name) const;

  // Adds a new object found for `name`, or returns the loaded object with
  // the same real file. `loader` is the object whose DT_NEEDED caused it.
  // `name` is taken by value: callers often pass a string of a node, which
  // adding a node may move.
  size_t add(std::string name, Found found, size_t loader);
  void add_name(const std::string& name, size_t node);
  // Marks `node` loaded by `loader` and queues its DT_NEEDED for the walk.
  void enqueue(size_t node, size_t loader, const std::string& origin);

  // The object that caused `node` to be loaded (glibc's l_loader, musl's
  // needed_by); kNoNode for the program.
  size_t loader_of(size_t node) const;
  // Directory $ORIGIN expands to for `node`.
  std::string origin_of(size_t node) const;

  // glibc-hwcaps variants of `dir/name` (real paths and links go to the node).
  std::vector<std::string> hwcaps_dirs(const std::string& dir);

 private:
  const rootfs::RootFs& fs_;
  const std::string in_root_;   // " in dir:/", for messages
  rootfs::PathResolver paths_;  // every candidate is resolved through it
  const Options& options_;
  Graph& graph_;
  elf::ElfInfo arch_;
  std::map<std::string, size_t>& shared_nodes_;
  std::deque<size_t> queue_;
  // Hashed: every DT_NEEDED string of the closure is looked up, and paths
  // share long prefixes that ordered maps compare again and again.
  std::unordered_map<std::string, size_t> names_;    // request names, paths, SONAMEs
  std::unordered_map<std::string, size_t> by_real_;  // real path -> node
  std::unordered_map<size_t, size_t> loader_;
  std::unordered_map<size_t, int> depth_;  // DT_NEEDED levels below the program
  std::unordered_map<size_t, std::string> origin_;
  std::map<std::string, std::vector<std::string>> hwcaps_cache_;
};

// Search rules for each loader.
std::unique_ptr<LoaderRules> make_glibc_rules(const rootfs::RootFs& fs, const elf::ElfInfo& arch,
                                              Graph& graph);
std::unique_ptr<LoaderRules> make_musl_rules(const rootfs::RootFs& fs, const std::string& interp);

// Expands $ORIGIN/${ORIGIN} (and, when `lib`/`platform` are given, $LIB and
// $PLATFORM) in a search path element or DT_NEEDED path.
std::string expand_tokens(const std::string& text, const std::string& origin,
                          const std::string* lib = nullptr, const std::string* platform = nullptr);

// Split search path elements to absolute directories: tokens expanded,
// relative entries taken from "/" (a container's default working directory).
std::vector<std::string> search_path_dirs(const std::vector<std::string>& elements,
                                          const std::string& origin,
                                          const std::string* lib = nullptr,
                                          const std::string* platform = nullptr);

}  // namespace dslim::resolve
