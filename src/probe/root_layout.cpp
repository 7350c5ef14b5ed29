#include "probe/root_layout.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string_view>

#include "dslim/error.hpp"

namespace dslim::probe::detail {
namespace {

struct MountPoint {
  std::string path;
  std::string type;
};

// The kernel's own filesystems: nothing of the source lives there, and the sandbox makes its
// own /proc and /dev.
bool is_kernel_fs(std::string_view type) {
  static constexpr std::string_view kTypes[] = {
      "proc",      "sysfs",       "devtmpfs",   "devpts",   "cgroup",    "cgroup2",    "mqueue",
      "debugfs",   "tracefs",     "securityfs", "pstore",   "bpf",       "configfs",   "fusectl",
      "hugetlbfs", "binfmt_misc", "autofs",     "efivarfs", "selinuxfs", "rpc_pipefs", "nsfs"};
  return std::find(std::begin(kTypes), std::end(kTypes), type) != std::end(kTypes);
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      int v = 0;
      bool octal = true;
      for (size_t j = 1; j <= 3; ++j) {
        if (s[i + j] < '0' || s[i + j] > '7') octal = false;
        v = v * 8 + (s[i + j] - '0');
      }
      if (octal) {
        out += static_cast<char>(v);
        i += 3;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

// Mount points strictly under `root` (as /proc/self/mountinfo names them).
std::vector<MountPoint> mounts_under(const std::string& root) {
  std::vector<MountPoint> out;
  std::ifstream in("/proc/self/mountinfo");
  if (!in) throw Error("cannot read /proc/self/mountinfo: " + std::string(std::strerror(errno)));
  const std::string prefix = root == "/" ? "/" : root + "/";
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, dev, fs_root, mount_point, field;
    fields >> id >> parent >> dev >> fs_root >> mount_point;
    while (fields >> field && field != "-") {
    }
    std::string type;
    fields >> type;
    std::string path = unescape(mount_point);
    if (path.size() > prefix.size() && path.starts_with(prefix)) out.push_back({path, type});
  }
  return out;
}

class Planner {
 public:
  Planner(const std::string& root, const std::string& new_root, const std::string& scratch,
          bool userxattr, std::vector<MountPoint> mounts)
      : root_(root == "/" ? "" : root),
        new_root_(new_root),
        scratch_(scratch),
        userxattr_(userxattr),
        mounts_(std::move(mounts)) {}

  // Rebuilds directory `rel` ("" for the root, open as `dirfd`, which this takes) entry by entry.
  void compose(int dirfd, const std::string& rel) {
    std::unique_ptr<DIR, int (*)(DIR*)> dir(fdopendir(dirfd), closedir);
    if (!dir) {
      close(dirfd);
      throw Error("cannot list " + host(rel) + ": " + std::strerror(errno));
    }
    std::vector<std::string> names;
    while (dirent* e = readdir(dir.get())) {
      std::string_view name = e->d_name;
      if (name != "." && name != "..") names.emplace_back(name);
    }
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) add(dirfd, rel.empty() ? name : rel + "/" + name, name);
  }

  RootLayout take() { return std::move(layout_); }

  void add_overlay(int fd, const std::string& rel, bool owned, mode_t mode) {
    RootOp op = make_op(RootOpKind::Overlay, rel);
    op.fd = fd;
    op.mode = mode;
    if (owned) layout_.fds.emplace_back(fd);
    op.layer = scratch_ + "/" + std::to_string(layers_++);
    op.upper = op.layer + "/u";
    op.work = op.layer + "/w";
    op.text = overlay_options(op, userxattr_);
    layout_.ops.push_back(std::move(op));
  }

 private:
  std::string host(const std::string& rel) const { return root_ + "/" + rel; }
  std::string dest(const std::string& rel) const {
    return rel.empty() ? new_root_ : new_root_ + "/" + rel;
  }

  RootOp make_op(RootOpKind kind, const std::string& rel) const {
    RootOp op{};
    op.kind = kind;
    op.dest = dest(rel);
    op.source = host(rel);
    return op;
  }

  const MountPoint* mount_at(const std::string& path) const {
    for (const MountPoint& m : mounts_) {
      if (m.path == path) return &m;
    }
    return nullptr;
  }
  bool mount_below(const std::string& path) const {
    const std::string prefix = path + "/";
    return std::any_of(mounts_.begin(), mounts_.end(),
                       [&](const MountPoint& m) { return m.path.starts_with(prefix); });
  }

  void add(int dirfd, const std::string& rel, const std::string& name) {
    struct stat st;
    if (fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return;  // gone meanwhile
    const std::string path = host(rel);
    const mode_t mode = st.st_mode & (S_ISDIR(st.st_mode) ? 01777 : 0777);
    if (S_ISDIR(st.st_mode)) {
      const MountPoint* m = mount_at(path);
      if ((m && is_kernel_fs(m->type)) || mount_below(path)) {
        RootOp op = make_op(RootOpKind::Dir, rel);
        op.mode = mode;
        layout_.ops.push_back(std::move(op));
        if (m && is_kernel_fs(m->type)) return;
        int sub = openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0) throw Error("cannot list " + path + ": " + std::strerror(errno));
        compose(sub, rel);
        return;
      }
      int fd = openat(dirfd, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) throw Error("cannot open " + path + ": " + std::strerror(errno));
      add_overlay(fd, rel, true, mode);
    } else if (S_ISLNK(st.st_mode)) {
      char target[PATH_MAX];
      ssize_t n = readlinkat(dirfd, name.c_str(), target, sizeof target);
      if (n <= 0 || n >= static_cast<ssize_t>(sizeof target)) return;
      RootOp op = make_op(RootOpKind::Symlink, rel);
      op.text.assign(target, static_cast<size_t>(n));
      layout_.ops.push_back(std::move(op));
    } else if (S_ISREG(st.st_mode)) {
      // A file beside mount points (a bind-mounted /etc/resolv.conf, a stray file in /): copied.
      // One we may not read stays out, as it would stay unreadable in the sandbox.
      int fd = openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
      if (fd < 0) return;
      layout_.fds.emplace_back(fd);
      RootOp op = make_op(RootOpKind::File, rel);
      op.fd = fd;
      op.mode = mode;
      layout_.ops.push_back(std::move(op));
    }
    // Sockets, fifos and device nodes of the source are left out: nothing to probe there.
  }

  std::string root_, new_root_, scratch_;
  bool userxattr_;
  std::vector<MountPoint> mounts_;
  RootLayout layout_;
  int layers_ = 0;
};

}  // namespace

std::string overlay_options(const RootOp& op, bool userxattr) {
  // user.* xattrs for the overlay's metadata in a user namespace: trusted.* needs the host's
  // CAP_SYS_ADMIN.
  return "lowerdir=/proc/self/fd/" + std::to_string(op.fd) + ",upperdir=" + op.upper +
         ",workdir=" + op.work + (userxattr ? ",userxattr" : "");
}

RootLayout plan_root(const std::string& root, int root_fd, const std::string& new_root,
                     const std::string& scratch, bool userxattr) {
  char resolved[PATH_MAX];
  if (!realpath(root.c_str(), resolved)) {
    throw Error("cannot resolve the probe's root " + root + ": " + std::strerror(errno));
  }
  std::vector<MountPoint> mounts = mounts_under(resolved);
  Planner planner(resolved, new_root, scratch, userxattr, mounts);
  if (mounts.empty()) {
    struct stat st;
    if (fstat(root_fd, &st) != 0) throw Error("cannot read " + root + ": " + std::strerror(errno));
    planner.add_overlay(root_fd, "", false, st.st_mode & 01777);
    RootLayout layout = planner.take();
    RootOp& op = layout.ops.front();
    op.upper_dirs = {op.upper + "/proc", op.upper + "/dev"};
    return layout;
  }
  int fd = openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw Error("cannot list " + root + ": " + std::strerror(errno));
  planner.compose(fd, "");
  RootLayout layout = planner.take();
  layout.composed = true;
  return layout;
}

}  // namespace dslim::probe::detail
