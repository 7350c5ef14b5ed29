// Temporary names are random and created with O_EXCL / mkdir, so concurrent
// runs never share one; permissions follow the umask like any normal file.
#include "temp_path.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>

#include "dslim/error.hpp"
#include "dslim/fd_io.hpp"

namespace dslim {
namespace {

std::string random_suffix() {
  static const char* chars = "abcdefghijklmnopqrstuvwxyz0123456789";
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string s = ".tmp-";
  for (int i = 0; i < 8; ++i) s += chars[rng() % 36];
  return s;
}

}  // namespace

void throw_errno(const std::string& what, const std::string& path) {
  throw Error(what + " " + path + ": " + std::strerror(errno));
}

TempFile::TempFile(std::string target) : target_(std::move(target)) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    path_ = target_ + random_suffix();
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ >= 0) return;
    if (errno != EEXIST) throw_errno("cannot create", path_);
  }
  throw Error("cannot create a temporary file next to " + target_);
}

TempFile::~TempFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(path_.c_str());
}

void TempFile::write(std::string_view bytes) {
  write_all(fd_, bytes, "cannot write " + path_);
}

// No fsync: the rename makes the output atomic against dslim dying at any
// point (tested with SIGKILL), and a sync costs ~100 ms on a VM disk, twice
// the whole warm run. Power-loss durability is the file system's business,
// as for skopeo and docker save.
void TempFile::commit() {
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) throw_errno("cannot write", path_);
  if (::rename(path_.c_str(), target_.c_str()) != 0) throw_errno("cannot rename to", target_);
  committed_ = true;
}

TempDir::TempDir(std::string target) : target_(std::move(target)) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    path_ = target_ + random_suffix();
    if (::mkdir(path_.c_str(), 0777) == 0) return;
    if (errno != EEXIST) throw_errno("cannot create", path_);
  }
  throw Error("cannot create a temporary directory next to " + target_);
}

TempDir::~TempDir() {
  if (committed_) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);  // a failure here must not mask the original error
}

void TempDir::commit() {
  if (!try_commit()) {
    errno = ENOTEMPTY;
    throw_errno("cannot rename to", target_);
  }
}

bool TempDir::try_commit() {
  if (::rename(path_.c_str(), target_.c_str()) != 0) {
    if (errno == ENOTEMPTY || errno == EEXIST) return false;
    throw_errno("cannot rename to", target_);
  }
  committed_ = true;
  return true;
}

void write_file_atomic(const std::string& target, std::string_view bytes) {
  TempFile f(target);
  f.write(bytes);
  f.commit();
}

}  // namespace dslim
