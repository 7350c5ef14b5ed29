// materialize(): an image root's files written into a host directory, for
// the probe sandbox's lower layer.
//
// Every entry is made relative to a descriptor of its parent directory,
// which was itself made (or opened with O_NOFOLLOW|O_DIRECTORY) the same
// way from `dest`: no path below `dest` is ever handed to the kernel as a
// string, so no symlink, of the image or planted in `dest`, is followed.
// Names come from RootFs listings and are checked to be single components.
//
// Speed (DESIGN.md §7: a syscall ~1.1 us): a regular file costs one
// openat(O_CREAT|O_EXCL), one write of its whole view (a layered root maps
// it in place from its layer file), a close, and an fchmod only when the
// umask changed its mode; a directory mkdirat + openat, its descriptor kept
// open while its entries are written. Paths live in one buffer.
#include "dslim/materialize.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dslim/error.hpp"
#include "dslim/unique_fd.hpp"

namespace dslim::rootfs {
namespace {

using Fd = UniqueFd;

constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
constexpr mode_t kFileBits = 0777;  // set-uid, set-gid and sticky dropped
constexpr mode_t kDirBits = 07777;  // a directory keeps them (/tmp is 1777)
constexpr mode_t kOwnerRwx = S_IRWXU;

// A single path component, as every backend lists them; anything else is a
// hostile or broken backend, refused rather than joined into a path.
bool valid_name(std::string_view name) {
  return !name.empty() && name != "." && name != ".." &&
         name.find_first_of(std::string_view("/\0", 2)) == std::string_view::npos;
}

// The process umask, read without changing it (umask(2) would, for a
// moment, for every thread). nullopt when /proc does not say.
std::optional<mode_t> current_umask() {
  Fd fd(::open("/proc/self/status", O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return std::nullopt;
  char buf[4096];
  size_t len = 0;
  for (;;) {
    ssize_t n = ::read(fd.get(), buf + len, sizeof buf - len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    len += static_cast<size_t>(n);
    if (len == sizeof buf) break;
  }
  std::string_view text(buf, len);
  size_t at = text.find("\nUmask:");
  if (at == std::string_view::npos) return std::nullopt;
  mode_t mask = 0;
  bool digits = false;
  for (at += 7; at < text.size() && text[at] != '\n'; ++at) {
    char c = text[at];
    if (c == ' ' || c == '\t') continue;
    if (c < '0' || c > '7') return std::nullopt;
    mask = mask * 8 + static_cast<mode_t>(c - '0');
    digits = true;
  }
  if (!digits) return std::nullopt;
  return mask & 0777;
}

// 0, or the errno of the failed write.
int write_span(int fd, std::span<const std::byte> bytes) {
  const std::byte* p = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);  // the kernel caps one call at ~2 GiB
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return EIO;
    p += n;
    left -= static_cast<size_t>(n);
  }
  return 0;
}

// Directory modes to set once the entries below are written (directories
// made, or made writable for a moment, without root's rights), innermost
// last added, first set; also when a write fails. The descriptors belong
// to the caller and must outlive this.
class Restores {
 public:
  Restores() = default;
  Restores(const Restores&) = delete;
  Restores& operator=(const Restores&) = delete;
  ~Restores() { run(); }
  void add(int fd, mode_t mode) { list_.push_back({fd, mode}); }
  void run() {
    for (auto it = list_.rbegin(); it != list_.rend(); ++it) (void)::fchmod(it->first, it->second);
    list_.clear();
  }

 private:
  std::vector<std::pair<int, mode_t>> list_;
};

// A directory place() reached: its descriptor and mode now.
struct Placed {
  Fd fd;
  mode_t now = 0;
  bool made = false;  // by this call (else it was there)
};

class Writer {
 public:
  // `whole`: for materialize(), whose entries are all new (the umask is
  // read so that modes it leaves alone need no fchmod).
  Writer(const RootFs& fs, const std::string& dest, const MaterializeOptions& options,
         MaterializeStats& stats, bool whole)
      : fs_(fs), dest_(dest), options_(options), stats_(stats), whole_(whole) {
    privileged_ = ::geteuid() == 0;
    owners_ = options.keep_owners.value_or(privileged_);
    dest_fd_ = Fd(::open(dest.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dest_fd_.get() < 0) fail("", "open the destination directory", errno);
    if (whole_) umask_ = current_umask();
  }

  int dest_fd() const { return dest_fd_.get(); }

  // materialize(): `dest` must hold nothing yet.
  void require_empty() {
    Fd dup(::openat(dest_fd_.get(), ".", kDirFlags));
    DIR* d = dup.get() < 0 ? nullptr : ::fdopendir(dup.get());
    if (!d) fail("", "list the destination directory", errno);
    dup.release();  // d owns it
    bool empty = true;
    while (struct dirent* e = ::readdir(d)) {
      std::string_view name = e->d_name;
      if (name != "." && name != "..") {
        empty = false;
        break;
      }
    }
    ::closedir(d);
    if (!empty) throw Error("materialize " + fs_.describe() + ": " + dest_ + " is not empty");
  }

  // Everything below the directory at the physical in-root path `dir`,
  // written as `fd`, whose mode is `now` (nullopt: unknown), by one walk.
  void fill_tree(const std::string& dir, int fd, std::optional<mode_t> now, uint32_t depth) {
    path_ = dir == "/" ? "" : dir;
    fill(fd, now, depth);
  }

  // `dest` takes the root's mode and owner (only when they differ).
  void finish_root() {
    auto root = fs_.lstat("/");
    if (!root || root->type != FileType::Directory)
      throw Error("materialize " + fs_.describe() + ": the root / is not a directory");
    struct stat st {};
    if (::fstat(dest_fd_.get(), &st) != 0) fail("", "stat", errno);
    if (owners_ && (st.st_uid != id(root->uid, "") || st.st_gid != id(root->gid, "")) &&
        ::fchown(dest_fd_.get(), id(root->uid, ""), id(root->gid, "")) != 0)
      fail("", "chown", errno);
    mode_t want = root->mode & kDirBits;
    if ((st.st_mode & kDirBits) != want && ::fchmod(dest_fd_.get(), want) != 0)
      fail("", "set the mode of", errno);
  }

  // The entry at the physical in-root path `path` (not "/"), with its
  // parent directories, each made only when missing, with the image's mode
  // and owner (as a directory without its contents). The descriptors of
  // the parents go to `chain`; modes to set at the end to `restores`
  // (declared after `chain`). For a directory, returns its descriptor.
  Placed place(const std::string& path, const Stat& st, std::vector<Fd>& chain,
               Restores& restores) {
    std::vector<std::string> comps = components(path);
    if (comps.empty()) return Placed{};
    if (comps.size() > options_.max_depth) too_deep(path);
    int parent = dest_fd_.get();
    unlock(parent, restores);
    path_.clear();
    for (size_t i = 0; i + 1 < comps.size(); ++i) {
      path_ += '/';
      path_ += comps[i];
      chain.push_back(open_or_make_dir(parent, comps[i].c_str(), restores));
      parent = chain.back().get();
    }
    path_ += '/';
    path_ += comps.back();
    const char* name = comps.back().c_str();
    struct stat there {};
    if (::fstatat(parent, name, &there, AT_SYMLINK_NOFOLLOW) == 0) {
      if (st.type != FileType::Directory) return Placed{};  // written before
      Placed out;
      out.fd = open_dir(parent, name);
      out.now = there.st_mode & kDirBits;
      return out;
    }
    if (errno != ENOENT) fail(path_, "stat", errno);
    switch (st.type) {
      case FileType::Regular:
        link_file(parent, name, st);
        break;
      case FileType::Symlink:
        write_symlink(parent, name, st);
        break;
      case FileType::Other:
        count_entry();
        ++stats_.skipped;
        break;
      case FileType::Directory: {
        Placed out;
        make_dir(parent, name, st, false);
        out.fd = open_dir(parent, name);
        out.made = true;
        if (owners_ && ::fchown(out.fd.get(), id(st.uid), id(st.gid)) != 0)
          fail(path_, "chown", errno);
        out.now = mode_of(out.fd.get());  // with a set-gid parent's bit, if any
        return out;
      }
    }
    return Placed{};
  }

  // A directory place() made gets its own mode (after it is filled).
  void finish_placed(const Placed& placed, const std::string& path, const Stat& st) {
    mode_t want = st.mode & kDirBits;
    if (placed.made && ::fchmod(placed.fd.get(), want) != 0) fail(path, "set the mode of", errno);
  }

  static mode_t mode_of(int fd) {
    struct stat st {};
    return ::fstat(fd, &st) == 0 ? st.st_mode & kDirBits : 0;
  }

 private:
  [[noreturn]] void fail(const std::string& path, const char* action, int err) const {
    throw Error("materialize " + fs_.describe() + ": cannot " + action + " " + dest_ + path + ": " +
                std::strerror(err));
  }
  // Something else (a symlink: never followed) where a directory goes.
  [[noreturn]] void not_a_directory() const {
    throw Error("materialize " + fs_.describe() + ": cannot write below " + dest_ + path_ +
                ": not a directory (a symbolic link is never followed)");
  }
  [[noreturn]] void too_deep(const std::string& path) const {
    throw Error("materialize " + fs_.describe() + ": " + path + " is nested deeper than " +
                std::to_string(options_.max_depth) + " directories, the bound (max_depth)");
  }

  // An owner as written. (uid_t)-1 would tell chown to leave the id alone:
  // refused.
  uint32_t id(uint32_t image_id) const { return id(image_id, path_); }
  uint32_t id(uint32_t image_id, const std::string& path) const {
    if (image_id == 0xFFFFFFFFu)
      throw Error("materialize " + fs_.describe() + ": " + (path.empty() ? "/" : path) +
                  ": owner id 4294967295 is not a valid id");
    return image_id;
  }

  void count_entry() {
    uint64_t entries = stats_.files + stats_.dirs + stats_.symlinks + stats_.skipped;
    if (entries >= options_.max_entries)
      throw Error("materialize " + fs_.describe() + ": " + path_ + " would make more than " +
                  std::to_string(options_.max_entries) + " entries, the bound (max_entries)");
  }

  void count_bytes(uint64_t size) {
    if (size > options_.max_bytes - std::min(stats_.bytes, options_.max_bytes))
      throw Error("materialize " + fs_.describe() + ": " + path_ + " (" + std::to_string(size) +
                  " bytes) would write more than " + std::to_string(options_.max_bytes) +
                  " bytes in all, the bound (max_bytes)");
  }

  Fd open_dir(int parent, const char* name) const {
    Fd fd(::openat(parent, name, kDirFlags));
    if (fd.get() < 0 && (errno == ELOOP || errno == ENOTDIR)) not_a_directory();
    if (fd.get() < 0) fail(path_, "open", errno);
    return fd;
  }

  // Without root's rights a directory must be writable to be written in:
  // made so for a moment, its mode put back by `restores`.
  void unlock(int fd, Restores& restores) {
    if (privileged_) return;
    mode_t now = mode_of(fd);
    if ((now & kOwnerRwx) == kOwnerRwx) return;
    if (::fchmod(fd, now | kOwnerRwx) != 0) fail(path_, "make writable", errno);
    restores.add(fd, now);
  }

  // mkdirat with the mode the directory should have while it fills: its
  // own, or owner-writable too without root's rights. Returns the mode it
  // got, when known (`parent_sgid`: a set-gid parent passes its bit on).
  std::optional<mode_t> make_dir(int parent, const char* name, const Stat& st, bool parent_sgid) {
    count_entry();
    mode_t want = st.mode & kDirBits;
    mode_t ask = (privileged_ ? want : want | kOwnerRwx) & 01777;
    if (::mkdirat(parent, name, ask) != 0) fail(path_, "make directory", errno);
    ++stats_.dirs;
    if (!umask_) return std::nullopt;
    return (ask & ~*umask_) | (parent_sgid ? S_ISGID : 0);
  }

  // For place(): a directory on the way, there already or made now.
  Fd open_or_make_dir(int parent, const char* name, Restores& restores) {
    Fd fd(::openat(parent, name, kDirFlags));
    if (fd.get() >= 0) {
      unlock(fd.get(), restores);
      return fd;
    }
    if (errno == ENOENT) {
      auto st = fs_.lstat(path_);
      if (!st || st->type != FileType::Directory)
        throw Error("materialize " + fs_.describe() + ": " + path_ + ": not a directory");
      count_entry();
      if (::mkdirat(parent, name, (st->mode | kOwnerRwx) & 01777) == 0) {
        ++stats_.dirs;
      } else if (errno != EEXIST) {
        fail(path_, "make directory", errno);
      }
      fd = open_dir(parent, name);
      if (owners_ && ::fchown(fd.get(), id(st->uid), id(st->gid)) != 0) fail(path_, "chown", errno);
      restores.add(fd.get(), st->mode & kDirBits);  // once the entry below is in
      return fd;
    }
    if (errno == EACCES && !privileged_) {
      // No read permission for its owner (0311, 0000): opened by path
      // alone, given it, then opened for real.
      Fd by_path(::openat(parent, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      struct stat st {};
      if (by_path.get() < 0 || ::fstat(by_path.get(), &st) != 0) fail(path_, "open", errno);
      std::string proc = "/proc/self/fd/" + std::to_string(by_path.get());
      if (::chmod(proc.c_str(), (st.st_mode & kDirBits) | kOwnerRwx) != 0)
        fail(path_, "make readable", errno);
      fd = open_dir(parent, name);
      restores.add(fd.get(), st.st_mode & kDirBits);
      return fd;
    }
    if (errno == ELOOP || errno == ENOTDIR) not_a_directory();
    fail(path_, "open", errno);
  }

  // materialize(): every entry is new (O_EXCL, mkdirat).
  void fill(int dirfd, std::optional<mode_t> now, uint32_t depth) {
    const size_t base = path_.size();
    const std::vector<std::string> names = fs_.list(base == 0 ? std::string("/") : path_);
    const bool sgid = now && (*now & S_ISGID) != 0;
    for (const std::string& name : names) {
      if (!valid_name(name))
        throw Error("materialize " + fs_.describe() + ": refusing the entry name \"" +
                    name.substr(0, name.find('\0')) + "\" in " +
                    (base == 0 ? std::string("/") : path_.substr(0, base)));
      path_.resize(base);
      path_ += '/';
      path_ += name;
      auto st = fs_.lstat(path_);
      if (!st)
        throw Error("materialize " + fs_.describe() + ": " + path_ +
                    " is listed but does not exist");
      switch (st->type) {
        case FileType::Regular:
          write_file(dirfd, name.c_str(), *st);
          break;
        case FileType::Symlink:
          write_symlink(dirfd, name.c_str(), *st);
          break;
        case FileType::Other:
          count_entry();
          ++stats_.skipped;
          break;
        case FileType::Directory: {
          if (depth + 1 > options_.max_depth) too_deep(path_);
          auto made = make_dir(dirfd, name.c_str(), *st, sgid);
          Fd sub = open_dir(dirfd, name.c_str());
          if (owners_ && ::fchown(sub.get(), id(st->uid), id(st->gid)) != 0)
            fail(path_, "chown", errno);
          fill(sub.get(), made, depth + 1);
          mode_t want = st->mode & kDirBits;
          if (made != want && ::fchmod(sub.get(), want) != 0) fail(path_, "set the mode of", errno);
          break;
        }
      }
    }
    path_.resize(base);
  }

  // The view of the file at path_, counted against the bounds.
  std::unique_ptr<FileView> view_of(const Stat& st, std::span<const std::byte>& bytes) {
    count_entry();
    if (st.size == 0) return nullptr;
    count_bytes(st.size);
    auto view = fs_.open(path_);
    bytes = view->bytes();
    if (bytes.size() != st.size) count_bytes(bytes.size());
    return view;
  }

  // materialize(): a new file (O_EXCL), in one write of its view.
  void write_file(int dirfd, const char* name, const Stat& st) {
    std::span<const std::byte> bytes;
    auto view = view_of(st, bytes);
    const mode_t want = st.mode & kFileBits;
    Fd fd(::openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, want));
    if (fd.get() < 0) fail(path_, "create", errno);
    if (int err = write_span(fd.get(), bytes)) fail(path_, "write", err);
    if (owners_ && ::fchown(fd.get(), id(st.uid), id(st.gid)) != 0) fail(path_, "chown", errno);
    if ((!umask_ || (want & ~*umask_) != want) && ::fchmod(fd.get(), want) != 0)
      fail(path_, "set the mode of", errno);
    ++stats_.files;
    stats_.bytes += bytes.size();
  }

  // materialize_path(): a file appears whole or not at all. It is written
  // unnamed (O_TMPFILE) and linked in; where the file system cannot, it is
  // made in place and removed again if the write fails.
  void link_file(int dirfd, const char* name, const Stat& st) {
    std::span<const std::byte> bytes;
    auto view = view_of(st, bytes);
    bool named = false;
    Fd fd(::openat(dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600));
    if (fd.get() < 0) {
      if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) fail(path_, "create", errno);
      fd = Fd(::openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
      if (fd.get() < 0 && errno == EEXIST) return;  // written meanwhile
      if (fd.get() < 0) fail(path_, "create", errno);
      named = true;
    }
    int err = write_span(fd.get(), bytes);
    const char* action = "write";
    if (!err && owners_ && ::fchown(fd.get(), id(st.uid), id(st.gid)) != 0) {
      err = errno;
      action = "chown";
    }
    if (!err && ::fchmod(fd.get(), st.mode & kFileBits) != 0) {
      err = errno;
      action = "set the mode of";
    }
    if (err) {
      if (named) (void)::unlinkat(dirfd, name, 0);
      fail(path_, action, err);
    }
    if (!named) {
      // Linking a descriptor in took CAP_DAC_READ_SEARCH before Linux
      // 6.10; its /proc name does not.
      int rc = ::linkat(fd.get(), "", dirfd, name, AT_EMPTY_PATH);
      if (rc != 0 && (errno == ENOENT || errno == EPERM)) {
        std::string proc = "/proc/self/fd/" + std::to_string(fd.get());
        rc = ::linkat(AT_FDCWD, proc.c_str(), dirfd, name, AT_SYMLINK_FOLLOW);
      }
      if (rc != 0 && errno == EEXIST) return;  // written meanwhile
      if (rc != 0) fail(path_, "link", errno);
    }
    ++stats_.files;
    stats_.bytes += bytes.size();
  }

  // A symlink as stored. One with an empty target (no file system holds
  // one) or a NUL in it is skipped.
  void write_symlink(int dirfd, const char* name, const Stat& st) {
    count_entry();
    std::string target = fs_.readlink(path_);
    if (target.empty() || target.find('\0') != std::string::npos) {
      ++stats_.skipped;
      return;
    }
    if (::symlinkat(target.c_str(), dirfd, name) != 0) {
      if (errno == EEXIST && !whole_) return;  // written meanwhile
      fail(path_, "make symlink", errno);
    }
    if (owners_ && ::fchownat(dirfd, name, id(st.uid), id(st.gid), AT_SYMLINK_NOFOLLOW) != 0)
      fail(path_, "chown", errno);
    ++stats_.symlinks;
  }

  const RootFs& fs_;
  const std::string& dest_;
  const MaterializeOptions& options_;
  MaterializeStats& stats_;
  const bool whole_;
  Fd dest_fd_;
  bool privileged_ = false;
  bool owners_ = false;
  std::optional<mode_t> umask_;
  std::string path_;  // the in-root path being written ("" for the root)
};

// The entries on the way to `path` and, following a last symlink, the one
// it leads to: nullopt when `path` does not exist (a dangling last symlink
// is itself the entry).
std::optional<Resolved> find_entry(const RootFs& fs, const std::string& path) {
  if (auto found = resolve(fs, path, true)) return found;
  return resolve(fs, path, false);
}

// Writes the symlinks on the way to `found` (those below `skip_below`, a
// directory about to be filled, are left to the fill), then its parents and
// itself.
Placed place_found(Writer& w, const RootFs& fs, const Resolved& found, std::vector<Fd>& chain,
                   Restores& restores, const std::string* skip_below = nullptr) {
  for (const auto& link : found.links) {
    if (skip_below && (*skip_below == "/" || link.starts_with(*skip_below + "/"))) continue;
    if (auto st = fs.lstat(link)) w.place(link, *st, chain, restores);
  }
  return w.place(found.path, found.stat, chain, restores);
}

}  // namespace

MaterializeStats materialize(const RootFs& fs, const std::string& dest,
                             const MaterializeOptions& options) {
  MaterializeStats stats;
  Writer w(fs, dest, options, stats, true);
  w.require_empty();
  const std::string& top = options.path.empty() ? std::string("/") : options.path;
  auto found = find_entry(fs, top);
  if (!found)
    throw Error("materialize " + fs.describe() + ": " + top + ": no such file or directory");
  const std::string* fill = found->stat.type == FileType::Directory ? &found->path : nullptr;
  {
    std::vector<Fd> chain;
    Restores restores;
    Placed placed = place_found(w, fs, *found, chain, restores, fill);
    if (found->path == "/") {
      w.fill_tree("/", w.dest_fd(), Writer::mode_of(w.dest_fd()), 0);
    } else if (placed.fd.get() >= 0) {
      auto depth = static_cast<uint32_t>(components(found->path).size());
      w.fill_tree(found->path, placed.fd.get(), placed.now, depth);
      w.finish_placed(placed, found->path, found->stat);
    }
    restores.run();
  }
  w.finish_root();
  return stats;
}

bool materialize_path(const RootFs& fs, const std::string& path, const std::string& dest,
                      const MaterializeOptions& options, MaterializeStats* stats) {
  MaterializeStats local;
  Writer w(fs, dest, options, stats ? *stats : local, false);
  auto found = find_entry(fs, path);
  if (!found) return false;
  {
    std::vector<Fd> chain;
    Restores restores;
    Placed placed = place_found(w, fs, *found, chain, restores);
    if (placed.fd.get() >= 0) w.finish_placed(placed, found->path, found->stat);
    restores.run();
  }
  w.finish_root();
  return true;
}

}  // namespace dslim::rootfs
