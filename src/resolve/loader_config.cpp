// The loaders' text configuration, read the way their own parsers read it:
// glibc elf/ldconfig.c (parse_conf, parse_conf_include, add_dir_1),
// elf/rtld.c (/etc/ld.so.preload), elf/dl-load.c (fillin_rpath), and musl
// ldso/dynlink.c (the ld-musl-$ARCH.path file).
#include "dslim/loader_config.hpp"

#include <strings.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <set>

#include "dslim/error.hpp"

namespace dslim::resolve {
namespace {

// Includes nest this deep at most; ldconfig has no bound and recurses until
// it crashes on a cycle, which an image must not be able to do to us.
constexpr int kMaxIncludeDepth = 16;

// Directory entries the include patterns of one ld.so.conf may read, over all
// of them. A real one lists /etc/ld.so.conf.d; an image's `include /*/*/*/*`
// lines (each a different pattern) would otherwise list it all, line by line.
constexpr uint64_t kMaxIncludeEntries = 100'000;

bool is_space(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}
bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

struct ConfReader {
  explicit ConfReader(const rootfs::RootFs& root) : fs(root) {}

  const rootfs::RootFs& fs;
  std::vector<std::string> dirs;
  std::set<std::string> seen_dirs;
  std::set<std::string> seen_files;  // physical paths: each file is read once
  // Each include pattern (absolute, normalized), at the smallest depth it was
  // expanded at. A repeat at that depth or deeper would read no file that was
  // not read already (or cut by the depth bound), so it is not globbed again:
  // an image's thousand `include /*/*/*/*` lines list the image once.
  std::map<std::string, int> expanded;
  uint64_t entries_left = kMaxIncludeEntries;

  void add_dir(std::string line) {
    // add_dir_1: a legacy "DIR=TYPE" suffix goes, then trailing whitespace
    // and slashes. One directory per line; nothing splits it further.
    if (size_t eq = line.find('='); eq != std::string::npos) line.resize(eq);
    while (!line.empty() && is_space(line.back())) line.pop_back();
    while (!line.empty() && line.back() == '/') line.pop_back();
    if (line.empty()) line = "/";
    // ldconfig would take a relative directory against its own working
    // directory, which means nothing inside an image.
    if (line.front() != '/') return;
    std::string dir = rootfs::normalize(line);
    if (seen_dirs.insert(dir).second) dirs.push_back(std::move(dir));
  }

  void include(const std::string& from, const std::string& pattern, int depth) {
    // parse_conf_include: relative patterns are relative to the directory of
    // the file that names them.
    std::string full = pattern.front() == '/' ? pattern : rootfs::parent_dir(from) + "/" + pattern;
    if (full.front() != '/') return;
    full = rootfs::normalize(full);  // as glob() takes it
    if (auto it = expanded.find(full); it != expanded.end() && it->second <= depth) return;
    std::vector<std::string> files;
    try {
      files = rootfs::glob(fs, full, &entries_left);  // sorted, as glob(3) in the C locale
    } catch (const rootfs::GlobLimitError&) {
      throw Error(from + " in " + fs.describe() + ": include " + pattern +
                  ": the include lines of ld.so.conf would read more than " +
                  std::to_string(kMaxIncludeEntries) +
                  " directory entries (ldconfig has no such bound): narrow the image's patterns");
    } catch (const Error&) {
      // e.g. a symlink loop on the way: ldconfig's GLOB_ABORTED, ignored
    }
    for (const auto& file : files) parse(file, depth + 1);
    // Recorded once expanded: a repeat met inside this expansion (a file that
    // includes its own directory) still reads the files this one has not reached.
    auto [it, added] = expanded.emplace(full, depth);
    if (!added) it->second = std::min(it->second, depth);
  }

  void parse(const std::string& path, int depth) {
    if (depth > kMaxIncludeDepth) return;
    std::optional<std::string> text;
    try {
      auto where = rootfs::resolve(fs, path);
      if (!where || !seen_files.insert(where->path).second) return;
      text = rootfs::read_text(fs, path);
    } catch (const Error&) {
      return;  // a directory, a loop, too big: ldconfig warns and goes on
    }
    if (!text) return;

    size_t pos = 0;
    while (pos < text->size()) {
      size_t end = text->find('\n', pos);
      if (end == std::string::npos) end = text->size();
      std::string line = text->substr(pos, end - pos);
      pos = end + 1;

      // No quoting exists, so the first '#' ends the line.
      if (size_t hash = line.find('#'); hash != std::string::npos) line.resize(hash);
      size_t start = 0;
      while (start < line.size() && is_space(line[start])) ++start;
      line.erase(0, start);
      if (line.empty()) continue;

      if (line.size() > 7 && line.compare(0, 7, "include") == 0 && is_blank(line[7])) {
        // Several patterns, split on spaces and tabs only.
        size_t i = 8;
        while (i < line.size()) {
          size_t j = i;
          while (j < line.size() && !is_blank(line[j])) ++j;
          if (j > i) include(path, line.substr(i, j - i), depth);
          i = j + 1;
        }
      } else if (line.size() > 5 && strncasecmp(line.c_str(), "hwcap", 5) == 0 &&
                 is_blank(line[5])) {
        continue;  // ldconfig ignores hwcap directives (with a warning)
      } else {
        add_dir(line);
      }
    }
  }
};

}  // namespace

std::vector<std::string> read_ld_so_conf(const rootfs::RootFs& fs, const std::string& path) {
  ConfReader reader{fs};
  reader.parse(path, 0);
  return std::move(reader.dirs);
}

std::vector<std::string> read_ld_so_preload(const rootfs::RootFs& fs) {
  std::optional<std::string> text;
  try {
    text = rootfs::read_text(fs, "/etc/ld.so.preload");
  } catch (const Error&) {
    return {};  // the loader maps it or goes on without it
  }
  std::vector<std::string> names;
  if (!text) return names;
  // rtld.c: '#' blanks out the rest of its line, then names are split on
  // space, tab, newline and ':'.
  std::string name;
  bool in_comment = false;
  for (char c : *text + "\n") {
    if (in_comment) {
      if (c == '\n')
        in_comment = false;
      else
        continue;
    }
    if (c == '#') {
      in_comment = true;
      c = ' ';
    }
    if (c == ' ' || c == '\t' || c == '\n' || c == ':') {
      if (!name.empty()) names.push_back(std::move(name));
      name.clear();
    } else {
      name += c;
    }
  }
  return names;
}

std::vector<std::string> parse_musl_path(const std::string& text) {
  // dynlink.c reads the file whole and path_open splits it on ':' and '\n'
  // (strcspn ":\n"), skipping empty elements.
  std::vector<std::string> dirs;
  size_t i = 0;
  while (i <= text.size()) {
    size_t j = text.find_first_of(":\n", i);
    if (j == std::string::npos) j = text.size();
    if (j > i) dirs.push_back(text.substr(i, j - i));
    i = j + 1;
  }
  return dirs;
}

namespace {

// fillin_rpath: split on `separators`; an empty element is the current
// directory; trailing slashes go; a directory already listed is not listed
// again. An empty string has no elements at all.
std::vector<std::string> split_path(const std::string& text, const char* separators) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  std::set<std::string> seen;
  size_t i = 0;
  while (true) {
    size_t j = text.find_first_of(separators, i);
    std::string element = text.substr(i, j == std::string::npos ? std::string::npos : j - i);
    while (element.size() > 1 && element.back() == '/') element.pop_back();
    if (element.empty()) element = ".";
    if (seen.insert(element).second) out.push_back(std::move(element));
    if (j == std::string::npos) break;
    i = j + 1;
  }
  return out;
}

}  // namespace

std::vector<std::string> split_search_path(const std::string& text) {
  return split_path(text, ":;");
}

std::vector<std::string> split_rpath(const std::string& text) {
  return split_path(text, ":");
}

}  // namespace dslim::resolve
