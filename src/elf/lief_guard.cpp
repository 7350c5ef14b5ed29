// What LIEF 0.9 must not see. It trusts the section and program header
// tables: a section or segment claiming more bytes than the file holds makes
// it allocate and walk that size (a 15 s, 1.2 GB parse of an 18 kB file found
// by tests/fuzz/fuzz_elf_lief), and an entry size of 0 divides by it. The
// loader ignores sections, so only LIEF needs these checks.
#include <string>

#include "dslim/error.hpp"
#include "elf/byte_view.hpp"
#include "elf/full_reader.hpp"

namespace dslim::elf::detail {
namespace {

constexpr uint32_t kShtSymtab = 2, kShtRela = 4, kShtDynamic = 6, kShtNobits = 8, kShtRel = 9,
                   kShtDynsym = 11;

}  // namespace

void check_for_lief(std::span<const std::byte> bytes, const ElfInfo& light,
                    const std::string& name) {
  const SpanSource source(bytes);
  const ByteView view(source, light.little_endian);
  const bool is64 = light.elf_class == ElfClass::Elf64;
  const unsigned word = is64 ? 8 : 4;
  auto fail = [&](const std::string& what) { throw Error(name + ": malformed ELF file: " + what); };
  auto field = [&](uint64_t offset, unsigned width) {
    uint64_t v = 0;
    if (!view.read(offset, width, v)) fail("truncated header table");
    return v;
  };
  auto within = [&](uint64_t offset, uint64_t size, const std::string& what) {
    if (!view.contains(offset, size)) fail(what + " lies past the end of the file");
  };

  const uint64_t phoff = field(is64 ? 32 : 28, word);
  const uint64_t phentsize = field(is64 ? 54 : 42, 2), phnum = field(is64 ? 56 : 44, 2);
  const uint64_t shoff = field(is64 ? 40 : 32, word);
  const uint64_t shentsize = field(is64 ? 58 : 46, 2), shnum = field(is64 ? 60 : 48, 2);
  const uint64_t shstrndx = field(is64 ? 62 : 50, 2);

  const uint64_t phdr = is64 ? 56 : 32;
  if (phnum != 0 && phentsize != phdr) fail("program header size " + std::to_string(phentsize));
  for (uint64_t i = 0; i < phnum; ++i) {
    const uint64_t at = phoff + i * phdr;
    const uint64_t offset = field(at + (is64 ? 8 : 4), word);
    const uint64_t filesz = field(at + (is64 ? 32 : 16), word);
    within(offset, filesz, "segment " + std::to_string(i));
  }

  if (shnum == 0) return;
  const uint64_t shdr = is64 ? 64 : 40;
  if (shentsize != shdr) fail("section header size " + std::to_string(shentsize));
  within(shoff, shnum * shdr, "the section header table");
  if (shstrndx >= shnum) fail("section name table index " + std::to_string(shstrndx));
  for (uint64_t i = 0; i < shnum; ++i) {
    const uint64_t at = shoff + i * shdr;
    const auto type = static_cast<uint32_t>(field(at + 4, 4));
    const uint64_t offset = field(at + (is64 ? 24 : 16), word);
    const uint64_t size = field(at + (is64 ? 32 : 20), word);
    const uint64_t link = field(at + (is64 ? 40 : 24), 4);
    const uint64_t entsize = field(at + (is64 ? 56 : 36), word);
    const std::string section = "section " + std::to_string(i);
    if (type != kShtNobits) within(offset, size, section);
    if (link >= shnum) fail(section + " links to section " + std::to_string(link));
    const bool table = type == kShtSymtab || type == kShtDynsym || type == kShtRela ||
                       type == kShtRel || type == kShtDynamic;
    if (table && entsize == 0) fail(section + " is a table with entries of size 0");
  }
}

}  // namespace dslim::elf::detail
