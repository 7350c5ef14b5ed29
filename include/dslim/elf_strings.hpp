#pragma once
// String literals of a program: what it may hand to iconv_open() or dlopen()
// at run time, which no header names.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "dslim/elf.hpp"

namespace dslim::elf {

// Calls `visit` for each NUL-terminated run of at least `min_length`
// printable ASCII bytes in the file's read-only data: SHF_ALLOC PROGBITS
// sections neither writable nor executable (.rodata and its kin), where a C
// compiler puts string literals. A file without section headers gives none.
// Reads at most `max_bytes` of such sections (the first ones, in file order).
// Throws dslim::Error naming `name` for a malformed file.
void for_each_read_only_string(uint64_t size, const ReadAt& read_at, const std::string& name,
                               size_t min_length,
                               const std::function<void(std::string_view)>& visit,
                               uint64_t max_bytes = 256ull << 20);

}  // namespace dslim::elf
