#pragma once
// The dependency closure of one or more programs inside an image root,
// found by the rules of that image's own dynamic loader (DESIGN.md §3).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dslim/elf.hpp"
#include "dslim/rootfs.hpp"

namespace dslim::resolve {

enum class LoaderKind { Glibc, Musl, Static };

// Which rule found a file (reported by `deps`).
enum class FoundBy {
  Program,        // one of the programs asked for
  Interpreter,    // PT_INTERP
  Path,           // DT_NEEDED containing '/'
  Rpath,          // DT_RPATH (inherited up the loader chain)
  LdLibraryPath,  // LD_LIBRARY_PATH
  Runpath,        // DT_RUNPATH (glibc: requester's own; musl: inherited)
  LdCache,        // /etc/ld.so.cache
  DefaultDir,     // the loader's built-in directories
  MuslPathFile,   // /etc/ld-musl-ARCH.path
  LoaderItself,   // musl names (libc.so, libpthread.so.0, ...) served by the loader
  Preload,        // /etc/ld.so.preload
};
const char* to_string(FoundBy by);
// The loader whose rules apply to a program, from its PT_INTERP.
LoaderKind loader_kind(const elf::ElfInfo& info);
const char* to_string(LoaderKind kind);

// How a program comes to run: as an entry point of the image (its unmet
// symbols are errors), or dlopen'ed into the first entry program at run time
// (a plugin, an NSS module: the entry program's objects serve its symbols,
// and what none serves is a warning, as a lazy dlopen would go on).
enum class Role { Entry, Dlopened };

struct Node {
  std::string name;                // as requested: DT_NEEDED string, program path
  std::string path;                // in-root path the loader opened
  std::string real_path;           // `path` with every symlink resolved
  std::string host_path;           // a program read from this machine, not the root
  rootfs::Stat stat;               // of real_path
  Role role = Role::Entry;         // for programs
  std::vector<std::string> links;  // symlinks on the way from path to real_path
  FoundBy found_by = FoundBy::Program;
  std::string search_dir;             // directory the search found it in (if searched)
  std::vector<std::string> variants;  // glibc-hwcaps variants: their real paths and links
  elf::ElfInfo info;
  std::vector<size_t> deps;  // indices of the nodes its DT_NEEDED resolved to, in order
};

struct Missing {
  std::string name;                   // DT_NEEDED string
  std::string needed_by;              // in-root path (or program path) of the requester
  std::vector<std::string> searched;  // every directory tried, in order
  std::string hint;                   // e.g. a directory listed in ld.so.conf holding it
};

struct Graph {
  LoaderKind loader = LoaderKind::Static;
  std::string interpreter;       // PT_INTERP of the programs ("" if static)
  std::vector<Node> nodes;       // programs first, then breadth-first order
  std::vector<size_t> programs;  // indices of the programs
  std::vector<Missing> missing;
  std::vector<std::string> warnings;  // e.g. an unreadable ld.so.cache the loader would ignore

  // Every physical in-root path the image must hold for the closure: real
  // files and every symlink on the way to them (so /lib64/ld-linux-x86-64.so.2
  // works through /lib64 -> usr/lib64), glibc-hwcaps variants included;
  // sorted, unique. Programs given from outside the root are not included.
  std::vector<std::string> files() const;
};

// A program to resolve. Its bytes come from the host (`host_path`) or from the
// root; `origin` is its directory inside the root, for $ORIGIN.
struct Program {
  std::string display;  // how the user named it
  elf::ElfInfo info;
  std::string origin;                       // in-root directory for $ORIGIN
  std::optional<std::string> in_root_path;  // set when the program lives in the root
  std::string host_path;                    // else its file on this machine, if it has one
  Role role = Role::Entry;
};

// Bounds on what a hostile image or binary can make the walk do.
inline constexpr uint64_t kMaxElfSize = 1ull << 30;  // bytes of one ELF file (LIEF reads it whole)
inline constexpr int kMaxDependencyDepth = 64;       // DT_NEEDED levels below a program

struct Options {
  // LD_LIBRARY_PATH as the image config's Env sets it; empty when unset.
  std::string ld_library_path;
  uint64_t max_elf_size = kMaxElfSize;
  int max_dependency_depth = kMaxDependencyDepth;
};

class Resolver {
 public:
  explicit Resolver(const rootfs::RootFs& fs, Options options = {});
  // Throws dslim::Error for programs of mixed architectures or an unreadable
  // interpreter; missing libraries are reported in Graph::missing instead.
  Graph resolve(const std::vector<Program>& programs) const;
  // Adds more programs to a graph this resolver made: objects already in it
  // are reused, new ones appended (what is known about the first programs
  // can name more, e.g. the modules they dlopen).
  void extend(Graph& graph, const std::vector<Program>& programs) const;

 private:
  const rootfs::RootFs& fs_;
  Options options_;
};

// Reads a program on this machine; `origin` is its directory in the root.
// Throws dslim::Error for a file over `max_size` bytes.
Program program_from_host(const std::string& host_path, const std::string& origin,
                          elf::Depth depth = elf::Depth::Full, uint64_t max_size = kMaxElfSize);

// Reads a program that lives inside the root (light reader).
Program program_from_root(const rootfs::RootFs& fs, const std::string& path,
                          uint64_t max_size = kMaxElfSize);

// Throws dslim::Error when an ELF file of `size` bytes is over `max`.
void check_elf_size(uint64_t size, uint64_t max, const std::string& what);

}  // namespace dslim::resolve
