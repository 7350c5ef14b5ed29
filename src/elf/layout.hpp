#pragma once
// Where the fields of the ELF header and its tables sit, per class: the
// light reader and the section reader share them.
#include <cstdint>

namespace dslim::elf::detail {

struct Layout {
  uint64_t ehdr_size;
  unsigned word;
  uint64_t phoff_at, shoff_at, phentsize_at, phnum_at, shentsize_at, shnum_at, shstrndx_at;
  uint64_t shdr_size, sh_flags_at, sh_addr_at, sh_offset_at, sh_size_at, sh_link_at, sh_info_at;
  uint64_t phdr_size, p_flags_at, p_offset_at, p_vaddr_at, p_filesz_at, p_memsz_at;
  uint64_t dyn_size;  // one dynamic section entry: d_tag and d_val
};
constexpr Layout kLayout32{.ehdr_size = 52,
                           .word = 4,
                           .phoff_at = 28,
                           .shoff_at = 32,
                           .phentsize_at = 42,
                           .phnum_at = 44,
                           .shentsize_at = 46,
                           .shnum_at = 48,
                           .shstrndx_at = 50,
                           .shdr_size = 40,
                           .sh_flags_at = 8,
                           .sh_addr_at = 12,
                           .sh_offset_at = 16,
                           .sh_size_at = 20,
                           .sh_link_at = 24,
                           .sh_info_at = 28,
                           .phdr_size = 32,
                           .p_flags_at = 24,
                           .p_offset_at = 4,
                           .p_vaddr_at = 8,
                           .p_filesz_at = 16,
                           .p_memsz_at = 20,
                           .dyn_size = 8};
constexpr Layout kLayout64{.ehdr_size = 64,
                           .word = 8,
                           .phoff_at = 32,
                           .shoff_at = 40,
                           .phentsize_at = 54,
                           .phnum_at = 56,
                           .shentsize_at = 58,
                           .shnum_at = 60,
                           .shstrndx_at = 62,
                           .shdr_size = 64,
                           .sh_flags_at = 8,
                           .sh_addr_at = 16,
                           .sh_offset_at = 24,
                           .sh_size_at = 32,
                           .sh_link_at = 40,
                           .sh_info_at = 44,
                           .phdr_size = 56,
                           .p_flags_at = 4,
                           .p_offset_at = 8,
                           .p_vaddr_at = 16,
                           .p_filesz_at = 32,
                           .p_memsz_at = 40,
                           .dyn_size = 16};

}  // namespace dslim::elf::detail
