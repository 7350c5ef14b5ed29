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

}  // namespace

std::vector<std::string> glob(const RootFs& fs, const std::string& pattern) {
  if (pattern.empty() || pattern.front() != '/') {
    throw Error("glob pattern '" + pattern + "' in " + fs.describe() + " is not an absolute path");
  }
  const std::string norm = normalize(pattern);
  const std::vector<std::string> comps = components(norm);

  std::vector<std::string> found{"/"};  // logical (pattern-shaped) paths
  for (const auto& comp : comps) {
    std::vector<std::string> next;
    if (!has_wildcard(comp)) {
      for (const auto& dir : found) next.push_back(join(dir, comp));
    } else {
      for (const auto& dir : found) {
        auto r = resolve(fs, dir, true);
        if (!r || r->stat.type != FileType::Directory) continue;
        for (const auto& name : fs.list(r->path)) {
          // FNM_PERIOD: a leading dot must be matched explicitly, as in glob(3).
          if (::fnmatch(comp.c_str(), name.c_str(), FNM_PERIOD) == 0) {
            next.push_back(join(dir, name));
          }
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
