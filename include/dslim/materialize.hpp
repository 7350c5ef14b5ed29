#pragma once
// Writing an image root's files into a host directory, for the probe sandbox
// (issue 14): an image source exists only as a RootFs over cached layer
// files, and the sandbox wants a directory (an overlayfs lower layer).
//
// Confinement (DESIGN.md §5): every entry is created relative to a
// descriptor of its parent directory, by a single name taken from a RootFs
// listing (never "", ".", ".." or a name with '/'), with O_NOFOLLOW and
// O_EXCL, so neither a symlink of the image nor one planted in `dest` can
// redirect a write outside `dest`. Symlinks are written as stored: their
// targets are in-root paths, which the sandbox resolves against its own `/`.
#include <cstdint>
#include <optional>
#include <string>

#include "dslim/layered_rootfs.hpp"
#include "dslim/rootfs.hpp"

namespace dslim::rootfs {

// Bounds on one materialize() (or on a series of materialize_path() calls
// sharing one MaterializeStats): a hostile image, say one file hardlinked a
// million times, fails with an error naming the bound instead of filling
// the disk.
inline constexpr uint64_t kMaxMaterializeBytes = 16ull << 30;
inline constexpr uint64_t kMaxMaterializeEntries = kMaxLayeredEntries;
inline constexpr uint32_t kMaxMaterializeDepth = 256;  // directories open at once

struct MaterializeOptions {
  // The subtree to write (an in-root path; symlinks in it are followed inside
  // the root and written too). `dest` always stands for the root `/`: the
  // subtree lands at its own path, below its parent directories.
  std::string path = "/";
  uint64_t max_bytes = kMaxMaterializeBytes;      // bytes of regular files written
  uint64_t max_entries = kMaxMaterializeEntries;  // entries written or skipped
  uint32_t max_depth = kMaxMaterializeDepth;      // directory nesting below `/`
  // lchown every entry to its owner in the image. Default: when running as
  // root (euid 0); otherwise entries are the caller's. In a user namespace
  // that maps only the caller's ids, lchown fails (EINVAL): pass false.
  std::optional<bool> keep_owners;
};

struct MaterializeStats {
  uint64_t files = 0;     // regular files written (hardlinks each as a copy)
  uint64_t dirs = 0;      // directories made (dest itself not counted)
  uint64_t symlinks = 0;  // symbolic links made
  uint64_t bytes = 0;     // bytes of regular files
  uint64_t skipped = 0;   // devices, FIFOs and sockets: not written
};

// Writes every entry of `fs` below options.path (default the whole root)
// into `dest`, an existing, empty host directory: regular files with their
// bytes and mode (set-uid, set-gid and sticky bits dropped), directories
// with their mode (owner-writable while they fill, their mode set after;
// `dest` takes the mode of `/`), symlinks as stored. Devices, FIFOs and
// sockets are skipped and counted. mtimes are not kept. Throws dslim::Error
// naming the path at fault or the bound passed; `dest` then holds part of
// the tree, and the caller removes it.
MaterializeStats materialize(const RootFs& fs, const std::string& dest,
                             const MaterializeOptions& options = {});

// One path on demand, for a lazy sandbox: the entry at `path` as
// materialize() would write it (a directory without its contents), with its
// parent directories (their modes), every symlink met on the way and, when
// `path` is a symlink, what it leads to. Entries already in `dest` are left
// as they are: calling it again, or for paths sharing parents, is cheap and
// writes nothing twice. A file appears whole or not at all (written
// unnamed, then linked in). Returns false, writing nothing, when `path`
// does not exist in the root (a dangling last symlink is still written).
// `stats`, when given, adds what this call wrote, and options' bounds apply
// to its running totals. options.path is not used. Calls for different
// paths may run at once when running as root; without root's rights a
// directory on the way may be made owner-writable for the call, so calls
// into one `dest` must not overlap.
bool materialize_path(const RootFs& fs, const std::string& path, const std::string& dest,
                      const MaterializeOptions& options = {}, MaterializeStats* stats = nullptr);

}  // namespace dslim::rootfs
