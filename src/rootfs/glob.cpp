// glob(): shell-style wildcards expanded component by component inside a root,
// as glibc's glob(3) does for ld.so.conf's `include` lines.
#include <fnmatch.h>

#include <algorithm>
#include <string>
#include <vector>

#include "dslim/error.hpp"
#include "dslim/rootfs.hpp"

namespace dslim::rootfs {
namespace {

bool has_wildcard(const std::string& comp) {
  return comp.find_first_of("*?[") != std::string::npos;
}

std::string join(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

// PATH_MAX: the kernel fails a longer path with ENAMETOOLONG, so glob(3) and
// ldconfig find nothing there. Dropping such paths as they grow also keeps a
// pattern of a million literal components from costing a million growing copies.
constexpr size_t kPathMax = 4096;

}  // namespace

std::vector<std::string> glob(const RootFs& fs, const std::string& pattern,
                              uint64_t* entries_left) {
  if (pattern.empty() || pattern.front() != '/') {
    throw Error("glob pattern '" + pattern + "' in " + fs.describe() + " is not an absolute path");
  }
  const std::string norm = normalize(pattern);
  const std::vector<std::string> comps = components(norm);

  std::vector<std::string> found{"/"};  // logical (pattern-shaped) paths
  for (const auto& comp : comps) {
    std::vector<std::string> next;
    auto keep = [&next](std::string path) {
      if (path.size() < kPathMax) next.push_back(std::move(path));
    };
    if (!has_wildcard(comp)) {
      for (const auto& dir : found) keep(join(dir, comp));
    } else {
      for (const auto& dir : found) {
        auto r = resolve(fs, dir, true);
        if (!r || r->stat.type != FileType::Directory) continue;
        const std::vector<std::string> names = fs.list(r->path);
        if (entries_left) {
          if (names.size() > *entries_left) {
            throw GlobLimitError("glob '" + pattern + "' in " + fs.describe() + ": " + r->path +
                                 " has " + std::to_string(names.size()) +
                                 " entries, more than the " + std::to_string(*entries_left) +
                                 " left to read");
          }
          *entries_left -= names.size();
        }
        for (const auto& name : names) {
          // FNM_PERIOD: a leading dot must be matched explicitly, as in glob(3).
          if (::fnmatch(comp.c_str(), name.c_str(), FNM_PERIOD) == 0) keep(join(dir, name));
        }
      }
    }
    found = std::move(next);
    if (found.empty()) break;
  }

  // Keep only entries that exist; the last component itself is not followed, so
  // a dangling symlink still matches (glob(3) does the same).
  std::vector<std::string> out;
  for (auto& path : found) {
    if (resolve(fs, path, false)) out.push_back(std::move(path));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace dslim::rootfs
