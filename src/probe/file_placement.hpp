#pragma once
// Where spec.files go. The sandbox's root has no rights over the source's files that the host's
// root owns (sandbox.cpp says why), so a file cannot be created in, say, /usr/local/bin through
// the overlay. Instead each file is written into the upper layer of the overlay that covers its
// directory, before that overlay is mounted (or into a composed root's own tmpfs): the layer is
// ours and empty, so nothing there follows a link. The directory is resolved inside the source
// first (RESOLVE_IN_ROOT), so /bin/app lands in usr/bin when /bin -> usr/bin, instead of a new
// /bin hiding the link.
#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "probe/root_layout.hpp"

namespace dslim::probe::detail {

struct PlacedFile {
  int fd = -1;      // the host file, opened by the supervisor
  mode_t mode = 0;  // its permission bits, set-id bits dropped
  int op = -1;      // the overlay op whose upper layer receives it; -1: the composed tmpfs
  std::vector<std::pair<std::string, mode_t>> dirs;  // to create first, parents first
  std::string target;  // where it is written (an upper layer or the new root's tmpfs)
};

// Plans spec.files (host file -> in-root path) over `layout`. Opens the host files (their fds
// go to `fds`). Throws dslim::Error for an unreadable file or a relative destination.
std::vector<PlacedFile> place_files(const std::vector<std::pair<std::string, std::string>>& files,
                                    const std::string& root, int root_fd, const RootLayout& layout,
                                    const std::string& new_root, std::vector<UniqueFd>& fds);

}  // namespace dslim::probe::detail
