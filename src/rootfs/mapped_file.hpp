#pragma once
// Read-only mappings of part of a file, as FileViews.
#include <cstdint>
#include <memory>
#include <string>

#include "dslim/rootfs.hpp"

namespace dslim::rootfs {

// Bytes [offset, offset + len) of `fd` (the descriptor may be closed after).
// `populate` maps every page at once: cheaper than a fault per page (~20 us
// each on this machine class) when all of them will be read. Throws
// dslim::Error naming `what` when the mapping fails.
std::unique_ptr<FileView> map_file_range(int fd, uint64_t offset, uint64_t len, bool populate,
                                         const std::string& what);

}  // namespace dslim::rootfs
