#include <cstring>
#include <memory>

#include "dslim/elf_sections.hpp"
#include "dslim/elf_strings.hpp"

namespace dslim::elf {

namespace {

constexpr uint32_t kShtProgbits = 1;
constexpr uint64_t kShfWrite = 1, kShfAlloc = 2, kShfExecinstr = 4;

bool printable(unsigned char c) {
  return (c >= 0x20 && c < 0x7f) || c == '\t';
}

}  // namespace

void for_each_read_only_string(uint64_t size, const ReadAt& read_at, const std::string& name,
                               size_t min_length,
                               const std::function<void(std::string_view)>& visit,
                               uint64_t max_bytes) {
  for (const Section& section : read_sections(size, read_at, name)) {
    if (section.type != kShtProgbits || (section.flags & kShfAlloc) == 0 ||
        (section.flags & (kShfWrite | kShfExecinstr)) != 0 || section.size == 0)
      continue;
    const uint64_t n = std::min(section.size, max_bytes);
    if (n == 0) return;
    max_bytes -= n;
    // read_sections checked that the section lies inside the file.
    auto bytes = std::make_unique_for_overwrite<char[]>(n);
    read_at(section.offset, {reinterpret_cast<std::byte*>(bytes.get()), n});
    const char* p = bytes.get();
    const char* end = p + n;
    while (p < end) {
      const char* nul = static_cast<const char*>(std::memchr(p, 0, end - p));
      if (nul == nullptr) break;  // a run cut off by the section's end is no literal
      const char* start = nul;
      while (start > p && printable(static_cast<unsigned char>(start[-1]))) --start;
      if (static_cast<size_t>(nul - start) >= min_length) visit({start, nul});
      p = nul + 1;
    }
  }
}

}  // namespace dslim::elf
