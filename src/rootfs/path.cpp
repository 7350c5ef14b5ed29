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

std::string normalize(const std::string& path) {
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
