#pragma once
// Bounds-checked, endian-aware integer reads over a file's bytes, held in
// memory or fetched in small windows. Every read is checked, so no input can
// make the ELF reader touch memory outside the bytes.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>

namespace dslim::elf::detail {

// An unsigned integer of `width` bytes (1, 2, 4 or 8) at `p`, in either byte order.
inline uint64_t load_uint(const std::byte* p, unsigned width, bool little_endian) {
  const auto* b = reinterpret_cast<const unsigned char*>(p);
  uint64_t out = 0;
  for (unsigned i = 0; i < width; ++i) {
    const unsigned shift = 8 * (little_endian ? i : width - 1 - i);
    out |= static_cast<uint64_t>(b[i]) << shift;
  }
  return out;
}

// "0x1f2e": an address or magic number for a message.
inline std::string hex(uint64_t v) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  do {
    out.insert(out.begin(), digits[v & 0xf]);
    v >>= 4;
  } while (v != 0);
  return "0x" + out;
}

// Where the bytes come from.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual uint64_t size() const = 0;
  // [offset, offset + length) as contiguous memory, valid while the source
  // lives. The caller has checked that the range lies inside size().
  virtual const std::byte* data(uint64_t offset, uint64_t length) const = 0;
};

class SpanSource : public ByteSource {
 public:
  explicit SpanSource(std::span<const std::byte> bytes) : bytes_(bytes) {}
  uint64_t size() const override { return bytes_.size(); }
  const std::byte* data(uint64_t offset, uint64_t) const override { return bytes_.data() + offset; }

 private:
  std::span<const std::byte> bytes_;
};

class ByteView {
 public:
  ByteView(const ByteSource& source, bool little_endian)
      : source_(&source), little_(little_endian) {}

  uint64_t size() const { return source_->size(); }

  // True when [offset, offset + length) lies inside the bytes (overflow-safe).
  bool contains(uint64_t offset, uint64_t length) const {
    return offset <= size() && length <= size() - offset;
  }

  // Reads an unsigned integer of `width` bytes (1, 2, 4 or 8). The caller
  // checks the range first; an out-of-range read returns false instead of
  // reading, as a last line of defence.
  bool read(uint64_t offset, unsigned width, uint64_t& out) const {
    if (!contains(offset, width)) return false;
    out = load_uint(source_->data(offset, width), width, little_);
    return true;
  }

  // Asks a windowed source for [offset, offset + length) in one read, ahead
  // of the small reads that will follow; out-of-range asks are ignored.
  void preload(uint64_t offset, uint64_t length) const {
    if (length != 0 && contains(offset, length)) source_->data(offset, length);
  }
  // Offset of the first NUL in [offset, end), or `end` when there is none.
  // Scans in steps, so a source read in windows fetches only what it scans:
  // the first about a library name's length, each next one twice as long
  // (a hostile string table without a NUL costs few reads, not one a step).
  uint64_t find_nul(uint64_t offset, uint64_t end) const {
    constexpr uint64_t kFirstStep = 256, kMaxStep = 64 << 10;
    if (end > size()) return end;
    for (uint64_t step = kFirstStep; offset < end; step = std::min(2 * step, kMaxStep)) {
      const uint64_t n = std::min(end - offset, step);
      const auto* p = reinterpret_cast<const char*>(source_->data(offset, n));
      if (const void* hit = std::memchr(p, 0, n))
        return offset + (static_cast<const char*>(hit) - p);
      offset += n;
    }
    return end;
  }
  // The bytes [offset, offset + length) as a string; the caller has checked the range.
  std::string string(uint64_t offset, uint64_t length) const {
    return {reinterpret_cast<const char*>(source_->data(offset, length)), length};
  }

 private:
  const ByteSource* source_;
  bool little_;
};

}  // namespace dslim::elf::detail
