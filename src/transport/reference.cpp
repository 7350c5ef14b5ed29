// Parsing containers-transports references (skopeo's spelling).
#include "dslim/reference.hpp"

#include <string_view>

#include "dslim/error.hpp"

namespace dslim {
namespace {

[[noreturn]] void bad(const std::string& text, const std::string& why) {
  throw Error("invalid image reference '" + text + "': " + why, ErrorKind::Usage);
}

bool is_tag(std::string_view t) {
  if (t.empty() || t.size() > 128) return false;
  for (size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || (i > 0 && (c == '.' || c == '-'));
    if (!ok) return false;
  }
  return true;
}

// OCI's ref.name allows a wider alphabet than Docker tags ("repo:1.0", "a/b@x").
bool is_ref_name(std::string_view t) {
  if (t.empty()) return false;
  for (char c : t) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::string_view("-._:@/+").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

bool is_repo_name(std::string_view n) {
  if (n.empty()) return false;
  for (char c : n) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              std::string_view("-._/:").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return n.front() != '/' && n.back() != '/';
}

}  // namespace

std::string Reference::str() const {
  switch (transport) {
    case Transport::Dir:
      return "dir:" + path;
    case Transport::Oci:
      return "oci:" + path + (tag.empty() ? "" : ":" + tag);
    case Transport::OciArchive:
      return "oci-archive:" + path + (tag.empty() ? "" : ":" + tag);
    case Transport::DockerArchive:
      return "docker-archive:" + path + (name.empty() ? "" : ":" + name) +
             (tag.empty() ? "" : ":" + tag);
  }
  return path;
}

Reference parse_reference(const std::string& text) {
  struct Prefix {
    const char* name;
    Transport transport;
  };
  static const Prefix prefixes[] = {{"dir:", Transport::Dir},
                                    {"oci:", Transport::Oci},
                                    {"oci-archive:", Transport::OciArchive},
                                    {"docker-archive:", Transport::DockerArchive}};
  if (text.rfind("docker://", 0) == 0)
    throw Error("registry references (" + text + ") are not supported yet", ErrorKind::Usage);
  for (const auto& p : prefixes) {
    std::string_view prefix(p.name);
    if (text.rfind(prefix, 0) != 0) continue;
    Reference ref;
    ref.transport = p.transport;
    std::string rest = text.substr(prefix.size());
    if (p.transport == Transport::Dir) {
      ref.path = rest;  // dir: takes the whole rest; ':' is a valid path character there
    } else {
      size_t colon = rest.find(':');
      ref.path = rest.substr(0, colon);
      if (colon != std::string::npos) {
        std::string after = rest.substr(colon + 1);
        if (p.transport == Transport::DockerArchive) {
          if (after.find('@') != std::string::npos)
            bad(text, "digests are not supported in docker-archive references");
          // NAME may hold a registry port ("host:5000/app"), so TAG is after
          // the last ':' that follows the last '/'.
          size_t slash = after.rfind('/');
          size_t tcolon = after.rfind(':');
          if (tcolon != std::string::npos && (slash == std::string::npos || tcolon > slash)) {
            ref.name = after.substr(0, tcolon);
            ref.tag = after.substr(tcolon + 1);
            if (!is_tag(ref.tag)) bad(text, "'" + ref.tag + "' is not a valid tag");
          } else {
            ref.name = after;
          }
          if (!is_repo_name(ref.name))
            bad(text,
                "'" + ref.name + "' is not a valid image name (lowercase letters, digits, ._-/)");
        } else {
          ref.tag = after;
          if (!is_ref_name(ref.tag)) bad(text, "'" + ref.tag + "' is not a valid tag");
        }
      }
    }
    if (ref.path.empty()) bad(text, "no path");
    return ref;
  }
  throw Error("'" + text +
                  "' is not a dir:, oci:, oci-archive: or docker-archive: reference (registry "
                  "references, docker://HOST/REPO:TAG or REPO:TAG, are not supported yet)",
              ErrorKind::Usage);
}

}  // namespace dslim
