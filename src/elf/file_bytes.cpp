// Reads the file through one descriptor: fstat and read see the same inode,
// so the type check cannot be raced by a rename.
#include "elf/file_bytes.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "dslim/error.hpp"

namespace dslim::elf::detail {
namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw Error(path + ": " + what);
}

std::string open_error(int err) {
  if (err == ENOENT) return "no such file";
  if (err == ENOTDIR) return "no such file (a parent is not a directory)";
  return std::string("cannot open (") + std::strerror(err) + ")";
}

}  // namespace

HostFile::HostFile(const std::string& path) : path_(path) {
  // O_NONBLOCK: opening a FIFO must not hang before fstat rejects it.
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd_ < 0) fail(path, open_error(errno));
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    const int err = errno;
    ::close(fd_);
    fail(path, std::string("cannot stat (") + std::strerror(err) + ")");
  }
  const char* wrong = S_ISDIR(st.st_mode)    ? "is a directory, not an ELF file"
                      : !S_ISREG(st.st_mode) ? "not a regular file"
                                             : nullptr;
  if (wrong != nullptr) {
    ::close(fd_);
    fail(path, wrong);
  }
  size_ = static_cast<uint64_t>(st.st_size);
}

HostFile::~HostFile() {
  ::close(fd_);
}

size_t HostFile::read_some(uint64_t offset, std::span<std::byte> out) const {
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n =
        ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(path_, std::string("cannot read (") + std::strerror(errno) + ")");
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

void HostFile::read(uint64_t offset, std::span<std::byte> out) const {
  if (read_some(offset, out) != out.size()) fail(path_, "the file shrank while it was read");
}

std::vector<uint8_t> HostFile::read_all() const {
  std::vector<uint8_t> bytes(size_);
  // Shrank while reading: validate what is there.
  bytes.resize(read_some(0, std::as_writable_bytes(std::span(bytes))));
  return bytes;
}

}  // namespace dslim::elf::detail
