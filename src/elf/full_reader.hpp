#pragma once
// The full check (light reader, then LIEF, then both compared) over bytes
// already in memory: read_elf_file's Depth::Full, and what the fuzz target
// feeds directly.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "dslim/elf.hpp"

namespace dslim::elf::detail {

// Throws dslim::Error for the header-table damage LIEF mishandles
// (lief_guard.cpp); `light` is read_elf's view of the same bytes.
void check_for_lief(std::span<const std::byte> bytes, const ElfInfo& light,
                    const std::string& name);

ElfInfo read_elf_full(const std::vector<uint8_t>& bytes, const std::string& name);

}  // namespace dslim::elf::detail
