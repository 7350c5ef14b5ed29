// normalize(): lexical clean-up of an in-root path (DESIGN.md §2, rootfs).
#include <string>
#include <vector>

#include "dslim/rootfs.hpp"

namespace dslim::rootfs {

std::string normalize(const std::string& path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string comp = path.substr(i, j - i);
    i = j + 1;
    if (comp.empty() || comp == ".") continue;
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
