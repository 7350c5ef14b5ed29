// The section header reader and the Go reader (pclntab, build info, the
// segment scan) over the input: a value or dslim::Error, never a read
// outside the bytes.
#include <algorithm>
#include <cstring>
#include <span>

#include "dslim/elf_sections.hpp"
#include "dslim/error.hpp"
#include "dslim/go_binary.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The readers check every range before they ask for it: a read outside the
  // input is a missing check, so it crashes rather than becoming an Error.
  const dslim::elf::ReadAt read_at = [&](uint64_t offset, std::span<std::byte> out) {
    if (offset > size || out.size() > size - offset) __builtin_trap();
    if (!out.empty()) std::memcpy(out.data(), data + offset, out.size());
  };
  try {
    (void)dslim::elf::read_sections(size, read_at, "fuzz");
  } catch (const dslim::Error&) {
  }
  try {
    (void)dslim::elf::read_segments(size, read_at, "fuzz");
  } catch (const dslim::Error&) {
  }
  try {
    if (const auto go = dslim::elf::read_go_binary(size, read_at, "fuzz")) {
      const auto& f = go->functions;
      // Sorted, unique, no empty names: what the lookups' binary search needs.
      if (!std::is_sorted(f.begin(), f.end()) || std::adjacent_find(f.begin(), f.end()) != f.end())
        __builtin_trap();
      for (const auto& name : f)
        if (name.empty() || !go->has_function(name) || !go->has_function_prefix(name))
          __builtin_trap();
    }
  } catch (const dslim::Error&) {
  }
  return 0;
}
