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

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw Error(path + ": " + what);
}

std::string open_error(int err) {
  if (err == ENOENT) return "no such file";
  if (err == ENOTDIR) return "no such file (a parent is not a directory)";
  return std::string("cannot open (") + std::strerror(err) + ")";
}

}  // namespace

std::vector<uint8_t> read_file_bytes(const std::string& path) {
  // O_NONBLOCK: opening a FIFO must not hang before fstat rejects it.
  const Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) fail(path, open_error(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    fail(path, std::string("cannot stat (") + std::strerror(errno) + ")");
  if (S_ISDIR(st.st_mode)) fail(path, "is a directory, not an ELF file");
  if (!S_ISREG(st.st_mode)) fail(path, "not a regular file");
  std::vector<uint8_t> bytes(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::read(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(path, std::string("cannot read (") + std::strerror(errno) + ")");
    if (n == 0) break;  // shrank while reading: validate what is there
    done += static_cast<size_t>(n);
  }
  bytes.resize(done);
  return bytes;
}

}  // namespace dslim::elf::detail
