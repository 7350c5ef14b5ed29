#include "dslim/fd_io.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "dslim/error.hpp"

namespace dslim {
namespace {

// `offset` < 0: write at the file position.
void write_loop(int fd, std::string_view bytes, int64_t offset, const std::string& what) {
  while (!bytes.empty()) {
    ssize_t n = offset < 0 ? ::write(fd, bytes.data(), bytes.size())
                           : ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error(what + ": " + std::strerror(errno));
    bytes.remove_prefix(static_cast<size_t>(n));
    if (offset >= 0) offset += n;
  }
}

}  // namespace

void write_all(int fd, std::string_view bytes, const std::string& what) {
  write_loop(fd, bytes, -1, what);
}

void pwrite_all(int fd, std::string_view bytes, uint64_t offset, const std::string& what) {
  write_loop(fd, bytes, static_cast<int64_t>(offset), what);
}

}  // namespace dslim
