#include "probe/file_placement.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "dslim/error.hpp"

namespace dslim::probe::detail {
namespace {

std::vector<std::string> components(const std::string& path) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at < path.size()) {
    size_t slash = path.find('/', at);
    if (slash == std::string::npos) slash = path.size();
    if (slash > at) out.push_back(path.substr(at, slash - at));
    at = slash + 1;
  }
  return out;
}

std::string join(const std::vector<std::string>& parts, size_t count) {
  std::string out;
  for (size_t i = 0; i < count; ++i) out += "/" + parts[i];
  return out;
}

// The canonical in-root path of directory `dir` (absolute, in the root): its deepest existing
// ancestor resolved inside the root, and the rest as written.
std::string resolve_dir(const std::string& root, int root_fd, const std::string& dir) {
  const std::vector<std::string> parts = components(dir);
  for (size_t keep = parts.size() + 1; keep-- > 0;) {
    open_how how{};
    how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    std::string rel = keep == 0 ? "." : join(parts, keep).substr(1);
    UniqueFd fd(static_cast<int>(syscall(SYS_openat2, root_fd, rel.c_str(), &how, sizeof how)));
    if (!fd) continue;
    char buf[PATH_MAX];
    ssize_t n = readlink(("/proc/self/fd/" + std::to_string(fd.get())).c_str(), buf, sizeof buf);
    if (n <= 0 || n >= static_cast<ssize_t>(sizeof buf)) continue;
    std::string host(buf, static_cast<size_t>(n));
    std::string in_root;
    if (root == "/") {
      in_root = host == "/" ? "" : host;
    } else if (host == root) {
      in_root = "";
    } else if (host.starts_with(root + "/")) {
      in_root = host.substr(root.size());
    } else {
      continue;  // not under the root after all (it moved meanwhile)
    }
    for (size_t i = keep; i < parts.size(); ++i) in_root += "/" + parts[i];
    return in_root;
  }
  return dir;
}

mode_t source_dir_mode(const std::string& root, const std::string& in_root) {
  struct stat st;
  std::string host = (root == "/" ? "" : root) + in_root;
  if (lstat(host.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return st.st_mode & 0777;
  return 0755;
}

}  // namespace

std::vector<PlacedFile> place_files(const std::vector<std::pair<std::string, std::string>>& files,
                                    const std::string& root, int root_fd, const RootLayout& layout,
                                    const std::string& new_root, std::vector<UniqueFd>& fds) {
  char resolved[PATH_MAX];
  if (!realpath(root.c_str(), resolved)) {
    throw Error("cannot resolve the probe's root " + root + ": " + std::strerror(errno));
  }
  std::vector<PlacedFile> out;
  for (const auto& [host, dest] : files) {
    const size_t slash = dest.rfind('/');
    if (dest.empty() || dest[0] != '/' || slash == dest.size() - 1) {
      throw Error("cannot place " + host + " at " + dest + ": not an absolute file path");
    }
    int fd = open(host.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error("cannot read " + host + ": " + std::strerror(errno));
    fds.emplace_back(fd);
    struct stat st;
    if (fstat(fd, &st) != 0) throw Error("cannot read " + host + ": " + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) throw Error("cannot place " + host + ": not a regular file");

    PlacedFile file;
    file.fd = fd;
    file.mode = static_cast<mode_t>(st.st_mode & 0777);
    const std::string dir = resolve_dir(resolved, root_fd, dest.substr(0, slash));
    // The overlay covering `dir` most closely, else the composed root's tmpfs.
    std::string base = new_root;
    size_t covered = 0;
    for (size_t i = 0; i < layout.ops.size(); ++i) {
      const RootOp& op = layout.ops[i];
      if (op.kind != RootOpKind::Overlay) continue;
      std::string in_root = op.dest.substr(new_root.size());
      bool covers = in_root.empty() || dir == in_root || dir.starts_with(in_root + "/");
      if (covers && (file.op < 0 || in_root.size() >= covered)) {
        file.op = static_cast<int>(i);
        base = op.upper;
        covered = in_root.size();
      }
    }
    std::string at = base;
    std::string in_root = dir.substr(0, covered);
    for (const std::string& part : components(dir.substr(covered))) {
      at += "/" + part;
      in_root += "/" + part;
      file.dirs.emplace_back(at, source_dir_mode(resolved, in_root));
    }
    file.target = at + dest.substr(slash);
    out.push_back(std::move(file));
  }
  return out;
}

}  // namespace dslim::probe::detail
