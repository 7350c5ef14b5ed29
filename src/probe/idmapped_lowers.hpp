#pragma once
// As root, the sandbox's ids are the host's kSandboxIdBase + id (probe.hpp says why), so the
// source's files, owned by the host's ids, would all look like nobody's inside: the program,
// root in the sandbox, could not write into its own /var/cache. An idmapped mount of each lower
// layer fixes that without touching the source: the filesystem's id N is seen as the sandbox's
// id N, as in the image. The supervisor makes the mounts (only the host's root may idmap a
// host filesystem) as detached trees; the sandbox moves them into its own mount namespace.
#include <vector>

#include "dslim/unique_fd.hpp"
#include "probe/root_layout.hpp"

namespace dslim::probe::detail {

// Sets `idmapped` on every Overlay op to a detached, idmapped clone of its lower directory, and
// keeps the descriptors in `fds`. All or none: false (and nothing set) when the kernel or a
// filesystem of the source cannot idmap; the sandbox then shows host-owned files as nobody's.
bool idmap_lowers(std::vector<RootOp>& ops, std::vector<UniqueFd>& fds);

}  // namespace dslim::probe::detail
