#pragma once
// A layer's decompressed tar in an unlinked temporary file, mmap'd: the
// content store LayeredRootFs hands out file views from.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "dslim/layered_rootfs.hpp"

namespace dslim::rootfs {

struct LayeredRootFs::LayerTar {
  LayerTar() = default;
  ~LayerTar();
  LayerTar(const LayerTar&) = delete;
  LayerTar& operator=(const LayerTar&) = delete;
  std::string_view bytes() const { return {static_cast<const char*>(base), size}; }

  void* base = nullptr;  // nullptr when empty
  uint64_t size = 0;
};

// Decompresses `blob` (gzip through ISA-L, zstd through libzstd, or a plain
// tar, told apart by their magic bytes) into a LayerTar. Throws dslim::Error
// prefixed with `where` on a corrupt or truncated stream, or when the tar
// would exceed `max_size` bytes.
std::shared_ptr<const LayeredRootFs::LayerTar> inflate_layer(std::string_view blob,
                                                             uint64_t max_size,
                                                             const std::string& where);

}  // namespace dslim::rootfs
