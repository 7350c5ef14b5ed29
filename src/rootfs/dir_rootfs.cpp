// DirRootFs: a RootFs over a directory of this machine.
//
// Every primitive opens its path with no symlink followed in any component
// (openat2 RESOLVE_NO_SYMLINKS, or a component-by-component openat(O_NOFOLLOW)
// walk where openat2 is unavailable), so even a caller that passes a path with a
// symlink in it by mistake can never reach outside the root.
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "dslim/error.hpp"
#include "dslim/rootfs.hpp"
#include "dslim/unique_fd.hpp"
#include "mapped_file.hpp"

namespace dslim::rootfs {
namespace {

using Fd = UniqueFd;

// Reads with pread through a descriptor held open: no mapping, no page faults.
class PreadReader : public FileReader {
 public:
  // The message naming the file is built only for an error (the resolver
  // reads hundreds of files without one).
  PreadReader(Fd fd, uint64_t size, std::string path, const RootFs& fs)
      : fd_(std::move(fd)), size_(size), path_(std::move(path)), fs_(fs) {}
  uint64_t size() const override { return size_; }
  void read(uint64_t offset, std::span<std::byte> out) const override {
    size_t done = 0;
    while (done < out.size()) {
      ssize_t n = ::pread(fd_.get(), out.data() + done, out.size() - done,
                          static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw Error(where() + ": " + std::strerror(errno));
      if (n == 0) throw Error(where() + ": the file shrank while it was read");
      done += static_cast<size_t>(n);
    }
  }

 private:
  std::string where() const { return path_ + " in " + fs_.describe(); }
  Fd fd_;
  uint64_t size_;
  std::string path_;
  const RootFs& fs_;
};

// 1 = openat2 works, 0 = unknown yet, -1 = unavailable (old kernel, seccomp).
std::atomic<int> g_openat2{0};

// Opens `host` (the canonical root, which holds no symlinks, plus a normalized
// in-root path) following no symlink anywhere. With O_PATH|O_NOFOLLOW a
// trailing symlink is opened itself. On failure returns -1 with errno set;
// ELOOP means a symlink was met.
int open_nofollow(const std::string& root, const std::string& host, const std::string& path,
                  int flags) {
  if (g_openat2.load(std::memory_order_relaxed) >= 0) {
    struct open_how how {};
    how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
    how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    long fd = ::syscall(SYS_openat2, AT_FDCWD, host.c_str(), &how, sizeof how);
    if (fd >= 0) {
      g_openat2.store(1, std::memory_order_relaxed);
      return static_cast<int>(fd);
    }
    if (errno != ENOSYS && errno != EPERM) return -1;
    if (g_openat2.load(std::memory_order_relaxed) == 1 && errno == EPERM) return -1;
    g_openat2.store(-1, std::memory_order_relaxed);
  }
  // Fallback: walk from the root, one directory at a time, never following.
  Fd dir(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0) return -1;
  auto comps = components(path);
  if (comps.empty()) return ::openat(dir.get(), ".", flags | O_CLOEXEC);
  for (size_t i = 0; i + 1 < comps.size(); ++i) {
    int fd = ::openat(dir.get(), comps[i].c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      struct stat st {};
      if (err == ENOTDIR && ::fstatat(dir.get(), comps[i].c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
          S_ISLNK(st.st_mode)) {
        err = ELOOP;
      }
      errno = err;
      return -1;
    }
    dir = Fd(fd);
  }
  return ::openat(dir.get(), comps.back().c_str(), flags | O_CLOEXEC);
}

FileType type_of(mode_t mode) {
  if (S_ISREG(mode)) return FileType::Regular;
  if (S_ISDIR(mode)) return FileType::Directory;
  if (S_ISLNK(mode)) return FileType::Symlink;
  return FileType::Other;
}

}  // namespace

DirRootFs::DirRootFs(std::string dir) {
  std::error_code ec;
  auto canon = std::filesystem::canonical(dir, ec);
  if (ec) throw Error("dir:" + dir + ": " + ec.message());
  if (!std::filesystem::is_directory(canon, ec)) throw Error("dir:" + dir + ": not a directory");
  dir_ = canon.string();
}

std::string DirRootFs::describe() const {
  return "dir:" + dir_;
}

std::string DirRootFs::host_path(const std::string& path) const {
  std::string p = normalize(path);
  if (p == "/") return dir_;
  return dir_ == "/" ? p : dir_ + p;
}

// Messages name the in-root path and the root: "/etc/foo in dir:/srv/root: ...".
namespace {
std::string where(const std::string& path, const std::string& desc) {
  return path + " in " + desc;
}
[[noreturn]] void fail(const std::string& path, const std::string& desc, int err) {
  if (err == ELOOP) {
    throw Error(where(path, desc) + ": a symbolic link is in the way (not a physical path)");
  }
  throw Error(where(path, desc) + ": " + std::strerror(err));
}
}  // namespace

DirRootFs::~DirRootFs() {
  for (const auto& [dir, fd] : dir_fds_) ::close(fd);
}

int DirRootFs::dir_fd(std::string_view dir) const {
  constexpr size_t kMaxCachedDirs = 256;
  std::lock_guard lock(fds_mutex_);
  if (auto it = dir_fds_.find(dir); it != dir_fds_.end()) return it->second;
  const std::string path(dir);
  int fd = open_nofollow(dir_, host_path(path), path, O_PATH | O_NOFOLLOW);
  if (fd < 0) return -1;
  // O_PATH|O_NOFOLLOW opens a final symlink itself: make sure it is a directory.
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISDIR(st.st_mode)) {
    int err = S_ISLNK(st.st_mode) ? ELOOP : ENOTDIR;
    ::close(fd);
    errno = err;
    return -1;
  }
  if (dir_fds_.size() >= kMaxCachedDirs) {
    for (const auto& [d, f] : dir_fds_) ::close(f);
    dir_fds_.clear();
  }
  dir_fds_.emplace(dir, fd);
  return fd;
}

int DirRootFs::parent_fd(const std::string& p, const char*& name) const {
  const size_t slash = p.rfind('/');
  name = p.c_str() + slash + 1;
  return dir_fd(slash == 0 ? "/" : std::string_view(p).substr(0, slash));
}

std::optional<Stat> DirRootFs::lstat(const std::string& path) const {
  const std::string p = normalize(path);
  struct stat st {};
  if (p == "/") {
    if (::stat(dir_.c_str(), &st) != 0) fail(p, describe(), errno);
  } else {
    const char* name = nullptr;
    const int parent = parent_fd(p, name);
    // The parent was opened following no symlink; the last name is not followed.
    if (parent < 0 || ::fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
      fail(p, describe(), errno);
    }
  }
  Stat out;
  out.type = type_of(st.st_mode);
  out.mode = st.st_mode & 07777;
  out.size = static_cast<uint64_t>(st.st_size);
  out.uid = st.st_uid;
  out.gid = st.st_gid;
  return out;
}

std::string DirRootFs::readlink(const std::string& path) const {
  const std::string p = normalize(path);
  if (p == "/") throw Error(where(p, describe()) + ": not a symbolic link");
  const char* name = nullptr;
  const int parent = parent_fd(p, name);
  if (parent < 0) fail(p, describe(), errno);
  // No lstat first: readlinkat says EINVAL for anything but a symlink, and a
  // walk reads hundreds of links.
  std::string buf(256, '\0');
  for (;;) {
    ssize_t n = ::readlinkat(parent, name, buf.data(), buf.size());
    if (n < 0 && errno == EINVAL) throw Error(where(p, describe()) + ": not a symbolic link");
    if (n < 0) fail(p, describe(), errno);
    if (static_cast<size_t>(n) < buf.size()) {
      buf.resize(static_cast<size_t>(n));
      return buf;
    }
    if (buf.size() > (1u << 20)) throw Error(where(p, describe()) + ": symbolic link too long");
    buf.resize(buf.size() * 2);
  }
}

std::vector<std::string> DirRootFs::list(const std::string& path) const {
  const std::string p = normalize(path);
  Fd fd(open_nofollow(dir_, host_path(p), p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
  if (fd.get() < 0) {
    if (errno == ENOTDIR) throw Error(where(p, describe()) + ": not a directory");
    fail(p, describe(), errno);
  }
  DIR* d = ::fdopendir(fd.get());
  if (d == nullptr) fail(p, describe(), errno);
  fd.release();  // owned by d now
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
    errno = 0;
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) fail(p, describe(), err);
  std::sort(names.begin(), names.end());
  return names;
}

int DirRootFs::open_entry(const std::string& p, int flags) const {
  if (p == "/") return open_nofollow(dir_, dir_, p, flags);
  // One name below a directory opened with no symlink followed: O_NOFOLLOW
  // is all the confinement left to ask for, and the kernel looks up one
  // component instead of the whole host path.
  const char* name = nullptr;
  const int parent = parent_fd(p, name);
  if (parent < 0) return -1;
  return ::openat(parent, name, flags | O_NOFOLLOW | O_CLOEXEC);
}

namespace {
// O_NONBLOCK: a FIFO in the image must not hang us before it is rejected.
constexpr int kReadFlags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY;

[[noreturn]] void fail_open(const std::string& path, const std::string& desc, int err) {
  if (err == ELOOP) throw Error(where(path, desc) + ": not a regular file (a symbolic link)");
  fail(path, desc, err);
}
}  // namespace

int DirRootFs::open_regular(const std::string& path, uint64_t& size) const {
  const std::string p = normalize(path);
  Fd fd(open_entry(p, kReadFlags));
  if (fd.get() < 0) fail_open(p, describe(), errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) fail(p, describe(), errno);
  if (!S_ISREG(st.st_mode)) throw Error(where(p, describe()) + ": not a regular file");
  size = static_cast<uint64_t>(st.st_size);
  return fd.release();
}

std::unique_ptr<FileView> DirRootFs::open(const std::string& path) const {
  uint64_t size = 0;
  Fd fd(open_regular(path, size));
  // Populated: whoever opens a whole file reads all of it (open_reader is
  // for reading a few pieces).
  return map_file_range(fd.get(), 0, size, true, where(normalize(path), describe()));
}

std::unique_ptr<FileReader> DirRootFs::open_reader(const std::string& path,
                                                   const Stat& seen) const {
  std::string p = normalize(path);
  if (seen.type != FileType::Regular) throw Error(where(p, describe()) + ": not a regular file");
  // No fstat: `seen` has the type and size. Were the file swapped since, the
  // descriptor still names no symlink, reads cannot hang, and a read past
  // the new end fails cleanly.
  Fd fd(open_entry(p, kReadFlags));
  if (fd.get() < 0) fail_open(p, describe(), errno);
  return std::make_unique<PreadReader>(std::move(fd), seen.size, std::move(p), *this);
}

}  // namespace dslim::rootfs
