// MemRootFs: an in-memory RootFs for tests and for files dslim makes itself.
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include "dslim/error.hpp"
#include "dslim/rootfs.hpp"

namespace dslim::rootfs {
namespace {

class StringView : public FileView {
 public:
  explicit StringView(std::string data) : data_(std::move(data)) {}
  std::span<const std::byte> bytes() const override {
    return {reinterpret_cast<const std::byte*>(data_.data()), data_.size()};
  }

 private:
  std::string data_;  // a copy: the view outlives later changes to the tree
};

std::string where(const std::string& path) {
  return path + " in memory";
}

}  // namespace

MemRootFs::MemRootFs() {
  Entry root;
  root.stat.type = FileType::Directory;
  root.stat.mode = 0755;
  entries_["/"] = std::move(root);
}

std::optional<Stat> MemRootFs::lstat(const std::string& path) const {
  auto it = entries_.find(normalize(path));
  if (it == entries_.end()) return std::nullopt;
  return it->second.stat;
}

std::string MemRootFs::readlink(const std::string& path) const {
  const std::string p = normalize(path);
  auto it = entries_.find(p);
  if (it == entries_.end()) throw Error(where(p) + ": no such file or directory");
  if (it->second.stat.type != FileType::Symlink) throw Error(where(p) + ": not a symbolic link");
  return it->second.data;
}

std::vector<std::string> MemRootFs::list(const std::string& path) const {
  const std::string p = normalize(path);
  auto it = entries_.find(p);
  if (it == entries_.end()) throw Error(where(p) + ": no such file or directory");
  if (it->second.stat.type != FileType::Directory) throw Error(where(p) + ": not a directory");
  const std::string prefix = p == "/" ? "/" : p + "/";
  std::vector<std::string> names;  // in key order, so sorted
  for (auto e = entries_.lower_bound(prefix); e != entries_.end();) {
    const std::string& key = e->first;
    if (key.compare(0, prefix.size(), prefix) != 0) break;
    const size_t slash = key.find('/', prefix.size());
    if (slash == std::string::npos) {
      if (key.size() > prefix.size()) names.push_back(key.substr(prefix.size()));  // not "/"
      ++e;
    } else {
      // Skip the child's subtree, keys in ["P/", "P0"): listing a directory
      // costs its children, not everything below it (glob lists every level).
      e = entries_.lower_bound(key.substr(0, slash) + "0");
    }
  }
  return names;
}

std::unique_ptr<FileView> MemRootFs::open(const std::string& path) const {
  const std::string p = normalize(path);
  auto it = entries_.find(p);
  if (it == entries_.end()) throw Error(where(p) + ": no such file or directory");
  if (it->second.stat.type != FileType::Regular) throw Error(where(p) + ": not a regular file");
  if (!it->second.host_path.empty()) {
    return DirRootFs("/").open(it->second.host_path);
  }
  return std::make_unique<StringView>(it->second.data);
}

void MemRootFs::ensure_parents(const std::string& path) {
  if (path == "/") return;
  const std::string parent = parent_dir(path);
  auto it = entries_.find(parent);
  if (it != entries_.end()) {
    if (it->second.stat.type != FileType::Directory) {
      throw Error("cannot add " + where(path) + ": " + parent + " is not a directory");
    }
    return;
  }
  ensure_parents(parent);
  Entry dir;
  dir.stat.type = FileType::Directory;
  dir.stat.mode = 0755;
  entries_[parent] = std::move(dir);
}

namespace {
// Replacing a directory by something else drops everything under it: the keys
// in ["P/", "P0"), as '0' is the character after '/'.
template <class Map>
void erase_below(Map& entries, const std::string& path) {
  entries.erase(entries.lower_bound(path + "/"), entries.lower_bound(path + "0"));
}
}  // namespace

void MemRootFs::add_file(const std::string& path, std::string contents, uint32_t mode) {
  const std::string p = normalize(path);
  if (p == "/") throw Error("cannot add a file as / in memory");
  ensure_parents(p);
  Entry e;
  e.stat.type = FileType::Regular;
  e.stat.mode = mode & 07777;
  e.stat.size = contents.size();
  e.data = std::move(contents);
  erase_below(entries_, p);
  entries_[p] = std::move(e);
}

void MemRootFs::add_dir(const std::string& path, uint32_t mode) {
  const std::string p = normalize(path);
  ensure_parents(p);
  auto it = entries_.find(p);
  if (it != entries_.end() && it->second.stat.type == FileType::Directory) {
    it->second.stat.mode = mode & 07777;  // keep its children
    return;
  }
  Entry e;
  e.stat.type = FileType::Directory;
  e.stat.mode = mode & 07777;
  entries_[p] = std::move(e);
}

void MemRootFs::add_symlink(const std::string& path, std::string target) {
  const std::string p = normalize(path);
  if (p == "/") throw Error("cannot add a symbolic link as / in memory");
  ensure_parents(p);
  Entry e;
  e.stat.type = FileType::Symlink;
  e.stat.mode = 0777;
  e.stat.size = target.size();
  e.data = std::move(target);
  erase_below(entries_, p);
  entries_[p] = std::move(e);
}

void MemRootFs::add_host_file(const std::string& path, const std::string& host_path,
                              std::optional<uint32_t> mode) {
  const std::string p = normalize(path);
  if (p == "/") throw Error("cannot add a file as / in memory");
  std::error_code ec;
  // DirRootFs("/") refuses symlinks in a path: keep the canonical one.
  std::filesystem::path real = std::filesystem::canonical(host_path, ec);
  struct stat st {};
  if (ec || ::stat(real.c_str(), &st) != 0) throw Error(host_path + ": no such file");
  if (!S_ISREG(st.st_mode)) throw Error(host_path + ": not a regular file");
  ensure_parents(p);
  Entry e;
  e.stat.type = FileType::Regular;
  e.stat.mode = mode.value_or(st.st_mode) & 07777;
  e.stat.size = static_cast<uint64_t>(st.st_size);
  e.host_path = real.string();
  erase_below(entries_, p);
  entries_[p] = std::move(e);
}

}  // namespace dslim::rootfs
