#pragma once
// Reading a whole regular file on this machine, with one-line errors naming it.
#include <cstdint>
#include <string>
#include <vector>

namespace dslim::elf::detail {

// The file's bytes, as LIEF's parser wants them. Throws dslim::Error for a
// missing, unreadable or non-regular path (a directory, a device, a FIFO).
std::vector<uint8_t> read_file_bytes(const std::string& path);

}  // namespace dslim::elf::detail
