#pragma once
// CRC-32 (the gzip/zlib polynomial), the check on every structure dslim
// keeps in its cache: damage, not forgery, is what it has to catch there.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace dslim {

// Continues `crc` (0 to start) over `size` bytes at `data`.
uint32_t crc32(const void* data, size_t size, uint32_t crc = 0);
inline uint32_t crc32(std::string_view bytes, uint32_t crc = 0) {
  return crc32(bytes.data(), bytes.size(), crc);
}

}  // namespace dslim
