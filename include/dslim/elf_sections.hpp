#pragma once
// ELF section headers and program headers, read through ReadAt with every
// offset checked against the file's size (for readers that look past what the
// loader reads, such as the Go reader in go_binary.hpp).
#include <cstdint>
#include <string>
#include <vector>

#include "dslim/elf.hpp"

namespace dslim::elf {

struct Section {
  static constexpr uint32_t kNull = 0, kNobits = 8;  // sh_type values
  std::string name;
  uint32_t type = 0;  // sh_type
  uint64_t flags = 0, addr = 0, offset = 0, size = 0;
};

// The section headers (names from e_shstrndx's table), in file order; empty
// when the file has none (e_shoff 0, or e_shnum 0 without extended numbering).
// Extended numbering (e_shnum 0 with the count in section 0's sh_size,
// e_shstrndx SHN_XINDEX with the index in its sh_link) is supported up to
// kMaxSections. Every table and every section with file bytes (neither
// SHT_NULL nor SHT_NOBITS) must lie inside the file, so a truncated file is
// an error. Throws dslim::Error naming `name` for a non-ELF or malformed file.
constexpr uint64_t kMaxSections = 65535;
std::vector<Section> read_sections(uint64_t size, const ReadAt& read_at, const std::string& name);

struct Segment {
  static constexpr uint32_t kLoad = 1, kGnuRelro = 0x6474e552;  // p_type values
  static constexpr uint32_t kExec = 1, kWrite = 2, kRead = 4;   // p_flags bits
  uint32_t type = 0, flags = 0;                                 // p_type, p_flags
  uint64_t offset = 0, vaddr = 0, filesz = 0, memsz = 0;
};

// The program headers, in file order (e_phnum PN_XNUM takes the count from
// section 0's sh_info). Each segment's file bytes must lie inside the file.
// Throws dslim::Error naming `name` for a non-ELF or malformed file.
std::vector<Segment> read_segments(uint64_t size, const ReadAt& read_at, const std::string& name);

}  // namespace dslim::elf
