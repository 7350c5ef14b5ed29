#pragma once
// Bounds-checked, endian-aware integer reads over a byte span. Every read is
// checked, so no input can make the ELF reader touch memory outside the span.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace dslim::elf::detail {

class ByteView {
 public:
  ByteView(std::span<const std::byte> bytes, bool little_endian)
      : bytes_(bytes), little_(little_endian) {}

  uint64_t size() const { return bytes_.size(); }

  // True when [offset, offset + length) lies inside the span (overflow-safe).
  bool contains(uint64_t offset, uint64_t length) const {
    return offset <= size() && length <= size() - offset;
  }

  // Reads an unsigned integer of `width` bytes (1, 2, 4 or 8). The caller
  // checks the range first; an out-of-range read returns false instead of
  // reading, as a last line of defence.
  bool read(uint64_t offset, unsigned width, uint64_t& out) const {
    if (!contains(offset, width)) return false;
    const auto* p = reinterpret_cast<const unsigned char*>(bytes_.data()) + offset;
    out = 0;
    for (unsigned i = 0; i < width; ++i) {
      const unsigned shift = 8 * (little_ ? i : width - 1 - i);
      out |= static_cast<uint64_t>(p[i]) << shift;
    }
    return true;
  }

  // Offset of the first NUL in [offset, end), or `end` when there is none.
  uint64_t find_nul(uint64_t offset, uint64_t end) const {
    if (end > size() || offset >= end) return end;
    const auto* base = reinterpret_cast<const char*>(bytes_.data());
    const void* hit = std::memchr(base + offset, 0, end - offset);
    return hit ? static_cast<uint64_t>(static_cast<const char*>(hit) - base) : end;
  }

  const char* chars(uint64_t offset) const {
    return reinterpret_cast<const char*>(bytes_.data()) + offset;
  }

 private:
  std::span<const std::byte> bytes_;
  bool little_;
};

}  // namespace dslim::elf::detail
