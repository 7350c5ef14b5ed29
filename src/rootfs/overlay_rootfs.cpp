// OverlayRootFs: added entries (upper) over a source root (lower).
#include <algorithm>
#include <set>

#include "dslim/error.hpp"
#include "dslim/rootfs.hpp"

namespace dslim::rootfs {

OverlayRootFs::OverlayRootFs(const RootFs& lower) : lower_(lower) {}

std::string OverlayRootFs::describe() const {
  return lower_.describe() + " (with added files)";
}

bool OverlayRootFs::hides_lower(const std::string& path) const {
  std::string p = normalize(path);
  for (const auto& dir : made_dirs_) {
    if (p.size() > dir.size() && p.compare(0, dir.size(), dir) == 0 && p[dir.size()] == '/') {
      return true;
    }
  }
  return false;
}

std::optional<Stat> OverlayRootFs::lstat(const std::string& path) const {
  auto upper = upper_.lstat(path);
  if (!upper) return hides_lower(path) ? std::nullopt : lower_.lstat(path);
  // A directory the upper layer only made as a parent keeps the lower's mode.
  if (upper->type == FileType::Directory && !made_dirs_.count(normalize(path))) {
    if (auto lower = lower_.lstat(path); lower && lower->type == FileType::Directory) return lower;
  }
  return upper;
}

std::string OverlayRootFs::readlink(const std::string& path) const {
  return upper_.lstat(path) ? upper_.readlink(path) : lower_.readlink(path);
}

std::vector<std::string> OverlayRootFs::list(const std::string& path) const {
  auto upper = upper_.lstat(path);
  auto lower = lower_.lstat(path);
  std::set<std::string> names;
  if (upper && upper->type == FileType::Directory) {
    for (auto& n : upper_.list(path)) names.insert(std::move(n));
  }
  if (lower && lower->type == FileType::Directory &&
      (!upper || (upper->type == FileType::Directory && !made_dirs_.count(normalize(path))))) {
    for (auto& n : lower_.list(path)) names.insert(std::move(n));
  }
  if (names.empty() && !(upper || lower)) return upper_.list(path);  // throws: no such dir
  return {names.begin(), names.end()};
}

std::unique_ptr<FileView> OverlayRootFs::open(const std::string& path) const {
  return upper_.lstat(path) ? upper_.open(path) : lower_.open(path);
}

std::unique_ptr<FileReader> OverlayRootFs::open_reader(const std::string& path,
                                                       const Stat& seen) const {
  return upper_.lstat(path) ? upper_.open_reader(path, seen) : lower_.open_reader(path, seen);
}

std::optional<std::string> OverlayRootFs::content_id(const std::string& path) const {
  return upper_.lstat(path) ? upper_.content_id(path) : lower_.content_id(path);
}

std::string OverlayRootFs::physical(const std::string& path) {
  const std::string p = normalize(path);
  if (p == "/") return p;
  std::string parent = "/";
  size_t start = 1;
  for (size_t slash = p.find('/', start); slash != std::string::npos;
       start = slash + 1, slash = p.find('/', start)) {
    std::string next = (parent == "/" ? "" : parent) + "/" + p.substr(start, slash - start);
    auto where = resolve(*this, next);
    if (!where) {
      parent = next;  // a new directory, made by the upper layer
      continue;
    }
    if (where->stat.type != FileType::Directory) {
      throw Error("cannot add " + p + " to " + describe() + ": " + next + " is not a directory");
    }
    parent = where->path;
  }
  return (parent == "/" ? "" : parent) + "/" + p.substr(start);
}

std::string OverlayRootFs::add_host_file(const std::string& path, const std::string& host_path,
                                         std::optional<uint32_t> mode) {
  std::string at = physical(path);
  upper_.add_host_file(at, host_path, mode);
  return at;
}

std::string OverlayRootFs::add_file(const std::string& path, std::string contents, uint32_t mode) {
  std::string at = physical(path);
  upper_.add_file(at, std::move(contents), mode);
  return at;
}

std::string OverlayRootFs::add_dir(const std::string& path, uint32_t mode) {
  std::string at = physical(path);
  upper_.add_dir(at, mode);
  made_dirs_.insert(at);
  return at;
}

std::string OverlayRootFs::add_symlink(const std::string& path, std::string target) {
  std::string at = physical(path);
  upper_.add_symlink(at, std::move(target));
  return at;
}

}  // namespace dslim::rootfs
