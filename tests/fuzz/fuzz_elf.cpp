// The light ELF reader, over a span and through the windowed ReadAt interface
// the resolver's walk uses: both must agree or fail with dslim::Error. Then
// the symbol and version tables it locates, as the symbol check reads them
// (into one table read again and again), and the string literals.
#include <cstring>
#include <span>

#include "dslim/elf.hpp"
#include "dslim/elf_strings.hpp"
#include "dslim/elf_symbols.hpp"
#include "dslim/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto bytes = std::as_bytes(std::span(data, size));
  std::optional<dslim::elf::ElfInfo> whole;
  try {
    whole = dslim::elf::read_elf(bytes, "fuzz");
    (void)dslim::elf::platform_of(*whole);
  } catch (const dslim::Error&) {
  }
  (void)dslim::elf::script_interpreter(bytes);
  try {
    const auto windowed = dslim::elf::read_elf(
        size,
        [&](uint64_t offset, std::span<std::byte> out) {
          if (offset > size || out.size() > size - offset) throw dslim::Error("fuzz: short read");
          std::memcpy(out.data(), data + offset, out.size());
        },
        "fuzz");
    // Same bytes, same reader: a difference would be a bug in the windowing.
    if (!whole || whole->needed != windowed.needed || whole->interpreter != windowed.interpreter)
      __builtin_trap();
  } catch (const dslim::Error&) {
  }
  if (whole) {
    static dslim::elf::SymbolTable table;  // reused, as GraphSymbols' buffers are
    try {
      table.read(*whole, bytes, "fuzz");
      for (size_t i = 0; i < table.size(); ++i) {
        const auto symbol = table.symbol(i);
        (void)table.name(symbol);
        (void)table.hash31(i);
        (void)table.versions().name(symbol.versym);
        (void)table.versions().need_of(symbol.versym);
      }
      (void)table.versions().defined();
    } catch (const dslim::Error&) {
    }
  }
  try {
    dslim::elf::for_each_read_only_string(
        size,
        [&](uint64_t offset, std::span<std::byte> out) {
          if (offset > size || out.size() > size - offset) throw dslim::Error("fuzz: short read");
          std::memcpy(out.data(), data + offset, out.size());
        },
        "fuzz", 2, [](std::string_view) {});
  } catch (const dslim::Error&) {
  }
  return 0;
}
