#pragma once
// How the sandbox's root is built over spec.root. One overlay whose lower layer is the whole
// root is the simple case (a materialized image). But a root with mount points under it (the
// machine's own "/", with /proc, /sys, /dev and maybe /run or /home) cannot be one lower layer
// in a user namespace: the submounts are locked there, and overlayfs refuses a lower that would
// uncover what they cover ("failed to clone lowerpath"). Then the root is a tmpfs rebuilt down to
// the mount points: one overlay per directory with no mount below it (a mount point of a real
// filesystem included), directories, symlinks and the few files at those levels copied, and
// the kernel's own filesystems (proc, sysfs, devtmpfs, cgroup, ...) left as empty directories,
// as the sandbox mounts its own /proc and /dev.
#include <sys/types.h>

#include <string>
#include <vector>

#include "dslim/unique_fd.hpp"

namespace dslim::probe::detail {

enum class RootOpKind : unsigned char { Dir, Overlay, Symlink, File };

// One step of building the new root, run by the sandbox before pivot_root. `dest` lies under
// the new root's mount point (a tmpfs the sandbox owns), so creating it follows no source link.
struct RootOp {
  RootOpKind kind;
  std::string dest;
  std::string source;  // the host path, for messages
  int fd = -1;         // Overlay: the lower directory (O_PATH); File: the source file
  std::string text;    // Overlay: the mount options; Symlink: the link's target
  std::string layer;   // Overlay: the scratch directory holding upper/ and work/
  std::string upper, work;
  // Overlay, as root: a detached idmapped clone of the lower (idmapped_lowers.hpp), moved to
  // `lower` in the layer's directory and used in place of `fd`'s directory; -1: none.
  int idmapped = -1;
  std::string lower;
  mode_t mode = 0755;  // permission bits, set-id dropped (Overlay: of the lower's root, which
                       // its upper root directory must have, as the overlay shows the upper's)
  // Overlay: directories made in the upper layer before the mount (the mount points /proc and
  // /dev of a root that is one overlay: its root directory is not ours to write in).
  std::vector<std::string> upper_dirs;
};

struct RootLayout {
  bool composed = false;      // a tmpfs root with overlays inside it, else one overlay as root
  std::vector<RootOp> ops;    // parents before children
  std::vector<UniqueFd> fds;  // the ops' descriptors, until the sandbox has inherited them
};

// Plans the root for `root` (a host directory, open as `root_fd`): the sandbox will mount it on
// `new_root` with scratch layers under `scratch`. `userxattr` for a user namespace. Throws
// dslim::Error when the root cannot be read.
RootLayout plan_root(const std::string& root, int root_fd, const std::string& new_root,
                     const std::string& scratch, bool userxattr);

// The overlay options for `op` (lowerdir through /proc/self/fd, so no path needs escaping).
std::string overlay_options(const RootOp& op, bool userxattr);

}  // namespace dslim::probe::detail
