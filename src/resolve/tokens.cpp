// Dynamic string tokens ($ORIGIN, $LIB, $PLATFORM) as glibc's
// _dl_dst_substitute and musl's fixup_rpath expand them.
#include <string_view>

#include "dslim/loader_config.hpp"
#include "dslim/rootfs.hpp"
#include "resolve/walk.hpp"

namespace dslim::resolve {

namespace {

// Length of the token at `text[pos]` ("$NAME" or "${NAME}") if it is `name`.
size_t token_length(std::string_view text, size_t pos, std::string_view name) {
  std::string_view rest = text.substr(pos + 1);
  if (rest.substr(0, name.size()) == name) {
    // $ORIGINX is not $ORIGIN: the name must end at a non-identifier char.
    char next = rest.size() > name.size() ? rest[name.size()] : '\0';
    bool ident = (next >= 'A' && next <= 'Z') || (next >= 'a' && next <= 'z') ||
                 (next >= '0' && next <= '9') || next == '_';
    return ident ? 0 : name.size() + 1;
  }
  if (!rest.empty() && rest[0] == '{' && rest.substr(1, name.size()) == name &&
      rest.size() > name.size() + 1 && rest[name.size() + 1] == '}') {
    return name.size() + 3;
  }
  return 0;
}

}  // namespace

std::string expand_tokens(const std::string& text, const std::string& origin,
                          const std::string* lib, const std::string* platform) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$') {
      out += text[i];
      continue;
    }
    if (size_t n = token_length(text, i, "ORIGIN")) {
      out += origin;
      i += n - 1;
    } else if (size_t n = lib ? token_length(text, i, "LIB") : 0) {
      out += *lib;
      i += n - 1;
    } else if (size_t n = platform ? token_length(text, i, "PLATFORM") : 0) {
      out += *platform;
      i += n - 1;
    } else {
      out += '$';
    }
  }
  return out;
}

std::vector<std::string> search_path_dirs(const std::vector<std::string>& elements,
                                          const std::string& origin, const std::string* lib,
                                          const std::string* platform) {
  std::vector<std::string> dirs;
  for (const auto& element : elements) {
    std::string dir = expand_tokens(element, origin, lib, platform);
    // Relative entries are relative to the working directory; a container
    // starts in "/" unless WorkingDir says otherwise.
    dirs.push_back(rootfs::normalize(dir.starts_with('/') ? dir : "/" + dir));
  }
  return dirs;
}

}  // namespace dslim::resolve
