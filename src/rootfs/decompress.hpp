#pragma once
// The tar stream inside a layer blob: gzip (ISA-L's igzip, about twice
// zlib's speed, DESIGN.md §7), zstd, or a plain tar, told apart by their
// magic bytes.
#include <memory>
#include <string>

#include "dslim/byte_reader.hpp"

namespace dslim::rootfs {

// Throws dslim::Error prefixed with `where` on a corrupt or truncated stream.
std::unique_ptr<ByteReader> decompressing_reader(std::unique_ptr<ByteReader> blob,
                                                 const std::string& where);

}  // namespace dslim::rootfs
