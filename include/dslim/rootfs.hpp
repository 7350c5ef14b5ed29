#pragma once
// RootFs: a read-only view of one image root. Backends implement four
// primitives on *physical* paths (absolute, normalized, every ancestor a real
// directory); `resolve` walks paths component by component on top of them, so
// every symlink, absolute or relative, is followed inside the root and can
// never reach the host.
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dslim/error.hpp"

namespace dslim::rootfs {

enum class FileType { Regular, Directory, Symlink, Other };

struct Stat {
  FileType type = FileType::Regular;
  uint32_t mode = 0644;  // permission bits only (07777)
  uint64_t size = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
};

// Bytes of one file, valid while the view lives (an mmap, or a buffer).
class FileView {
 public:
  virtual ~FileView() = default;
  virtual std::span<const std::byte> bytes() const = 0;
};

// One regular file read piecewise, for callers that need a few hundred bytes
// of a large file (the resolver reads the headers of every candidate library:
// on this machine class a page fault costs ~20 us, a small pread far less).
class FileReader {
 public:
  virtual ~FileReader() = default;
  virtual uint64_t size() const = 0;
  // Fills `out` from `offset`. Throws dslim::Error when that reaches past the
  // end (the file shrank) or the read fails.
  virtual void read(uint64_t offset, std::span<std::byte> out) const = 0;
};

// The default of RootFs::max_symlink_hops() (Linux's MAXSYMLINKS).
constexpr int kMaxSymlinkHops = 40;

class RootFs {
 public:
  virtual ~RootFs() = default;
  // A description for messages, e.g. "dir:/srv/root" or "oci:img:1.0".
  virtual std::string describe() const = 0;
  // The entry itself (symlinks not followed); nullopt if absent.
  virtual std::optional<Stat> lstat(const std::string& path) const = 0;
  // Target of a symlink, as stored. Throws dslim::Error if not a symlink.
  virtual std::string readlink(const std::string& path) const = 0;
  // Names (not paths) of a directory's entries, sorted. Throws if not a dir.
  virtual std::vector<std::string> list(const std::string& path) const = 0;
  // Contents of a regular file. Throws dslim::Error if not a regular file.
  virtual std::unique_ptr<FileView> open(const std::string& path) const = 0;
  // The same file, read piecewise; `seen` is what lstat(path) just said of
  // it, and a backend may take its type and size from there rather than ask
  // again (the resolver opens hundreds of libraries it has just looked up).
  // The default reads through open().
  virtual std::unique_ptr<FileReader> open_reader(const std::string& path, const Stat& seen) const;
  // A name for the bytes of the regular file at `path` that is the same
  // exactly when they are, if the file system has one without reading them
  // (an image layer's: its blob digest and the offset in its tar); nullopt
  // otherwise.
  virtual std::optional<std::string> content_id(const std::string& path) const {
    (void)path;
    return std::nullopt;
  }

  // Symlinks resolve() follows for one path before giving up (a loop, or a
  // hostile chain); --max-symlink-hops sets it.
  int max_symlink_hops() const { return max_symlink_hops_; }
  void set_max_symlink_hops(int hops) { max_symlink_hops_ = hops; }

 private:
  int max_symlink_hops_ = kMaxSymlinkHops;
};

// "/a/./b//../c/" -> {"a", "b", "..", "c"}: empty and "." dropped, ".." kept.
std::vector<std::string> components(std::string_view path);

// "/usr/lib/x" -> "/usr/lib"; "/x" and "/" -> "/".
std::string parent_dir(const std::string& path);

// "/a/./b//../c/" -> "/a/c". ".." above the root stays at the root, as in a chroot.
std::string normalize(const std::string& path);

struct Resolved {
  std::string path;                // physical in-root path (no symlinks in it)
  Stat stat;                       // of `path`
  std::vector<std::string> links;  // every symlink followed on the way, in order
};

// Resolves `path` inside the root, following symlinks in every component and,
// if follow_last, in the last one. nullopt when a component does not exist.
// Throws dslim::Error on a loop or more than fs.max_symlink_hops() hops.
std::optional<Resolved> resolve(const RootFs& fs, const std::string& path, bool follow_last = true);

// resolve() that remembers the directories it has resolved, for a caller that
// looks up many names in a few directories (the resolver's walk: thousands of
// candidates in a dozen directories, each reached through /lib -> usr/lib).
// The root must not change while it is used.
class PathResolver {
 public:
  explicit PathResolver(const RootFs& fs) : fs_(fs) {}
  std::optional<Resolved> resolve(const std::string& path, bool follow_last = true);

 private:
  const RootFs& fs_;
  std::optional<Stat> root_;
  std::map<std::string, std::optional<Resolved>, std::less<>> dirs_;
};

// Reads a whole file after resolving `path`; nullopt when absent.
std::optional<std::string> read_text(const RootFs& fs, const std::string& path);

// What glob() throws when it would read more directory entries than it was given.
class GlobLimitError : public Error {
 public:
  using Error::Error;
};

// Paths matching a glob (fnmatch per component, symlinks resolved inside the
// root), sorted. Used by ld.so.conf's `include`. `entries_left`, when given,
// is how many directory entries the expansion may still read; glob takes what
// it reads off it and throws GlobLimitError rather than read more, so one
// budget can bound many patterns (/*/*/*/* reads a whole image, and again at
// every level a symlink leads back up).
std::vector<std::string> glob(const RootFs& fs, const std::string& pattern,
                              uint64_t* entries_left = nullptr);

// RootFs over a directory of this machine. Files are mmap'd on open.
class DirRootFs : public RootFs {
 public:
  explicit DirRootFs(std::string dir);  // throws if `dir` is not a directory
  ~DirRootFs() override;
  DirRootFs(const DirRootFs&) = delete;
  DirRootFs& operator=(const DirRootFs&) = delete;
  std::string describe() const override;
  std::optional<Stat> lstat(const std::string& path) const override;
  std::string readlink(const std::string& path) const override;
  std::vector<std::string> list(const std::string& path) const override;
  std::unique_ptr<FileView> open(const std::string& path) const override;
  std::unique_ptr<FileReader> open_reader(const std::string& path, const Stat& seen) const override;
  const std::string& dir() const { return dir_; }

 private:
  std::string host_path(const std::string& path) const;
  // Opens the entry at a physical path itself (a final symlink is not
  // followed: ELOOP). -1 with errno set.
  int open_entry(const std::string& path, int flags) const;
  // Opens a regular file following no symlink; throws as open() does.
  int open_regular(const std::string& path, uint64_t& size) const;
  // An O_PATH descriptor of a physical directory, opened with no symlink
  // followed and kept: the resolver looks up thousands of names in a few
  // directories, and this makes each one a single fstatat. -1 with errno set.
  int dir_fd(std::string_view dir) const;
  // dir_fd() of the parent of `p` (a normalized path other than "/"), with
  // `name` pointed at its last component inside `p`.
  int parent_fd(const std::string& p, const char*& name) const;
  std::string dir_;
  mutable std::mutex fds_mutex_;
  mutable std::map<std::string, int, std::less<>> dir_fds_;
};

// In-memory RootFs for tests and for files dslim makes itself.
class MemRootFs : public RootFs {
 public:
  MemRootFs();  // holds "/" only
  std::string describe() const override { return "memory"; }
  std::optional<Stat> lstat(const std::string& path) const override;
  std::string readlink(const std::string& path) const override;
  std::vector<std::string> list(const std::string& path) const override;
  std::unique_ptr<FileView> open(const std::string& path) const override;

  // Adders create missing parent directories (mode 0755).
  void add_file(const std::string& path, std::string contents, uint32_t mode = 0644);
  void add_dir(const std::string& path, uint32_t mode = 0755);
  void add_symlink(const std::string& path, std::string target);
  // A regular file whose bytes stay in a file on this machine (read on open).
  void add_host_file(const std::string& path, const std::string& host_path,
                     std::optional<uint32_t> mode = std::nullopt);

 private:
  struct Entry {
    Stat stat;
    std::string data;       // file contents or symlink target
    std::string host_path;  // set for add_host_file entries
  };
  void ensure_parents(const std::string& path);
  std::map<std::string, Entry> entries_;
};

// The source root with files laid over it: the programs at their image paths
// and `--add` files, so the resolver sees the image as it will be. Added
// paths are placed through the lower root's symlinks (adding /lib/x/y where
// /lib -> usr/lib puts it at /usr/lib/x/y), so nothing hides a lower symlink.
class OverlayRootFs : public RootFs {
 public:
  explicit OverlayRootFs(const RootFs& lower);  // `lower` must outlive this
  std::string describe() const override;
  std::optional<Stat> lstat(const std::string& path) const override;
  std::string readlink(const std::string& path) const override;
  std::vector<std::string> list(const std::string& path) const override;
  std::unique_ptr<FileView> open(const std::string& path) const override;
  std::unique_ptr<FileReader> open_reader(const std::string& path, const Stat& seen) const override;
  std::optional<std::string> content_id(const std::string& path) const override;

  // Each returns the physical path the entry landed at. Throws dslim::Error
  // when a parent is an existing non-directory.
  std::string add_host_file(const std::string& path, const std::string& host_path,
                            std::optional<uint32_t> mode = std::nullopt);
  std::string add_file(const std::string& path, std::string contents, uint32_t mode = 0644);
  // A directory of its own: empty and with `mode`, whatever the lower root
  // has at that path.
  std::string add_dir(const std::string& path, uint32_t mode = 0755);
  std::string add_symlink(const std::string& path, std::string target);

  // The two layers, for a caller that lays them out elsewhere (the probe
  // sandbox: the source as a directory, what was added over it).
  const RootFs& lower() const { return lower_; }
  const RootFs& upper() const { return upper_; }

 private:
  std::string physical(const std::string& path);
  bool hides_lower(const std::string& path) const;  // below a made dir
  const RootFs& lower_;
  MemRootFs upper_;
  std::set<std::string> made_dirs_;  // add_dir'ed: they hide the lower's mode and contents
};

}  // namespace dslim::rootfs
