// normalize(): lexical clean-up of an in-root path (DESIGN.md §2, rootfs).
#include <string>
#include <string_view>
#include <vector>

#include "dslim/rootfs.hpp"

namespace dslim::rootfs {

std::vector<std::string> components(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view comp = path.substr(i, j - i);
    i = j + 1;
    if (!comp.empty() && comp != ".") out.emplace_back(comp);
  }
  return out;
}

std::string parent_dir(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

namespace {

// True when normalize() would return `path` unchanged: absolute, no empty,
// "." or ".." component, no trailing slash. Most paths the resolver passes
// around already are.
bool is_normal(std::string_view path) {
  if (path.empty() || path[0] != '/') return false;
  if (path.size() == 1) return true;
  if (path.back() == '/') return false;
  for (size_t i = 0; i < path.size();) {
    const size_t j = path.find('/', i + 1);
    const std::string_view comp =
        path.substr(i + 1, (j == std::string_view::npos ? path.size() : j) - i - 1);
    if (comp.empty() || comp == "." || comp == "..") return false;
    if (j == std::string_view::npos) break;
    i = j;
  }
  return true;
}

}  // namespace

std::string normalize(const std::string& path) {
  if (is_normal(path)) return path;
  std::vector<std::string> parts;
  for (auto& comp : components(path)) {
    if (comp == "..") {
      if (!parts.empty()) parts.pop_back();  // ".." at the root stays there (chroot)
      continue;
    }
    parts.push_back(std::move(comp));
  }
  if (parts.empty()) return "/";
  std::string out;
  for (const auto& p : parts) {
    out += '/';
    out += p;
  }
  return out;
}

}  // namespace dslim::rootfs
