// The full ELF check dslim runs on the user's own binaries: the light reader,
// then LIEF on the bytes it accepted, then the two compared.
#include <vector>

#include "dslim/error.hpp"
#include "elf/full_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    (void)dslim::elf::detail::read_elf_full(std::vector<uint8_t>(data, data + size), "fuzz");
  } catch (const dslim::Error&) {
  }
  return 0;
}
