#pragma once
// Whole writes to a file descriptor: short writes and EINTR retried.
#include <cstdint>
#include <string>
#include <string_view>

namespace dslim {

// Throws dslim::Error "<what>: <strerror>" when the write fails.
void write_all(int fd, std::string_view bytes, const std::string& what);
// The same at `offset`, leaving the file position alone.
void pwrite_all(int fd, std::string_view bytes, uint64_t offset, const std::string& what);

}  // namespace dslim
