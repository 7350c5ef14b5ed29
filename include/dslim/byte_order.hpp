#pragma once
// Integers stored in a file's byte order (an ELF file says which), read with
// one load and a swap when it is not the machine's.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace dslim {

// T is uint16_t, uint32_t or uint64_t; `p` needs no alignment.
template <typename T>
inline T load_ordered(const std::byte* p, bool little_endian) {
  T v;
  std::memcpy(&v, p, sizeof v);
  if (little_endian != (std::endian::native == std::endian::little)) {
    if constexpr (sizeof(T) == 2) v = __builtin_bswap16(v);
    if constexpr (sizeof(T) == 4) v = __builtin_bswap32(v);
    if constexpr (sizeof(T) == 8) v = __builtin_bswap64(v);
  }
  return v;
}

}  // namespace dslim
