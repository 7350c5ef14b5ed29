#include "probe/remote_process.hpp"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <cstring>
#include <string_view>

namespace dslim::probe::detail {
namespace {

constexpr size_t kPage = 4096;

// "/proc/<pid>/<rest>" in a stack buffer: this runs for most notifications.
struct ProcPath {
  char buf[64];
  ProcPath(pid_t pid, const char* rest, int fd = -1) {
    char* p = buf;
    memcpy(p, "/proc/", 6);
    p += 6;
    p = std::to_chars(p, buf + 24, pid).ptr;
    size_t n = strlen(rest);
    memcpy(p, rest, n);
    p += n;
    if (fd >= 0) p = std::to_chars(p, buf + sizeof buf - 1, fd).ptr;
    *p = '\0';
  }
};

bool read_link(const char* path, std::string& out) {
  out.resize(PATH_MAX);
  ssize_t n = readlink(path, out.data(), out.size());
  if (n <= 0 || static_cast<size_t>(n) >= out.size()) return false;
  out.resize(static_cast<size_t>(n));
  return out[0] == '/';
}

}  // namespace

bool read_remote(pid_t pid, uint64_t addr, void* buf, size_t size) {
  iovec local{buf, size};
  iovec remote{reinterpret_cast<void*>(addr), size};
  return process_vm_readv(pid, &local, 1, &remote, 1, 0) == static_cast<ssize_t>(size);
}

bool read_remote_string(pid_t pid, uint64_t addr, std::string& out) {
  // Page by page: the string may end just before an unmapped page. Most paths fit in the first.
  out.resize(PATH_MAX);
  size_t got = 0;
  while (got < out.size()) {
    uint64_t at = addr + got;
    size_t want = std::min<size_t>(kPage - (at % kPage), out.size() - got);
    iovec local{out.data() + got, want};
    iovec remote{reinterpret_cast<void*>(at), want};
    ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (n <= 0) return false;
    const char* nul =
        static_cast<const char*>(memchr(out.data() + got, '\0', static_cast<size_t>(n)));
    if (nul) {
      out.resize(static_cast<size_t>(nul - out.data()));
      return true;
    }
    got += static_cast<size_t>(n);
  }
  return false;  // longer than PATH_MAX: the call fails with ENAMETOOLONG
}

bool remote_dir_path(pid_t pid, int dirfd, std::string& out) {
  if (dirfd == AT_FDCWD) return read_link(ProcPath(pid, "/cwd").buf, out);
  if (dirfd < 0) return false;
  return read_link(ProcPath(pid, "/fd/", dirfd).buf, out);
}

int namespace_tgid(pid_t tid) {
  int fd = open(ProcPath(tid, "/status").buf, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[4096];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  std::string_view status(buf, static_cast<size_t>(n));
  // "NStgid:\t<host>\t...\t<innermost>\n": the last number is the sandbox's view.
  size_t at = status.find("\nNStgid:");
  if (at == std::string_view::npos) return 0;
  std::string_view line = status.substr(at + 8);
  line = line.substr(0, line.find('\n'));
  size_t last = line.find_last_of(" \t");
  if (last != std::string_view::npos) line.remove_prefix(last + 1);
  int value = 0;
  std::from_chars(line.data(), line.data() + line.size(), value);
  return value;
}

}  // namespace dslim::probe::detail
