// Parsing containers-transports references (skopeo's spelling) and registry
// names by the distribution spec's grammar (distribution/reference).
#include "dslim/reference.hpp"

#include <cctype>
#include <string_view>

#include "dslim/digest.hpp"
#include "dslim/error.hpp"

namespace dslim {
namespace {

[[noreturn]] void bad(const std::string& text, const std::string& why) {
  throw Error("invalid image reference '" + text + "': " + why, ErrorKind::Usage);
}

bool is_lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool is_alnum(char c) {
  return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

// Docker tags: [\w][\w.-]{0,127}.
bool is_tag(std::string_view t) {
  if (t.empty() || t.size() > 128) return false;
  for (size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if (!(is_alnum(c) || c == '_' || (i > 0 && (c == '.' || c == '-')))) return false;
  }
  return true;
}

// OCI's ref.name allows a wider alphabet than Docker tags ("repo:1.0", "a/b@x").
bool is_ref_name(std::string_view t) {
  if (t.empty()) return false;
  for (char c : t) {
    if (!is_alnum(c) && std::string_view("-._:@/+").find(c) == std::string_view::npos) return false;
  }
  return true;
}

// [a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*
bool is_path_component(std::string_view c) {
  size_t i = 0;
  while (i < c.size()) {
    if (!is_lower_alnum(c[i])) return false;
    while (i < c.size() && is_lower_alnum(c[i])) ++i;
    if (i == c.size()) return true;
    size_t sep = i;
    while (i < c.size() && !is_lower_alnum(c[i])) ++i;
    std::string_view s = c.substr(sep, i - sep);
    bool dashes = s.find_first_not_of('-') == std::string_view::npos;
    if (!(s == "." || s == "_" || s == "__" || dashes) || i == c.size()) return false;
  }
  return false;  // empty
}

// [a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.…)*(:[0-9]+)?, or [IPv6](:port)?
bool is_domain(std::string_view d) {
  size_t colon = d.rfind(':');
  std::string_view host = d;
  if (!d.empty() && d.front() == '[') {
    size_t close = d.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    for (char c : d.substr(1, close - 1))
      if (!(std::isxdigit(static_cast<unsigned char>(c)) || c == ':')) return false;
    host = {};
    colon = close + 1 < d.size() ? close + 1 : std::string_view::npos;
    if (colon != std::string_view::npos && d[colon] != ':') return false;
  } else if (colon != std::string_view::npos) {
    host = d.substr(0, colon);
  }
  if (colon != std::string_view::npos) {
    std::string_view port = d.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != port.npos)
      return false;
  }
  if (d.front() == '[') return true;
  size_t start = 0;
  while (true) {
    size_t dot = host.find('.', start);
    std::string_view label = host.substr(start, dot == host.npos ? host.npos : dot - start);
    if (label.empty() || !is_alnum(label.front()) || !is_alnum(label.back())) return false;
    for (char c : label)
      if (!is_alnum(c) && c != '-') return false;
    if (dot == host.npos) return true;
    start = dot + 1;
  }
}

struct DockerName {
  std::string registry;
  std::string repository;
};

// Splits NAME into registry and repository by Docker Hub's rules and checks
// both against the grammar; `why` says what is wrong, empty when valid.
DockerName split_docker_name(std::string_view name, std::string& why) {
  DockerName out;
  size_t slash = name.find('/');
  std::string_view first = name.substr(0, slash);
  bool has_host = slash != name.npos && (first.find_first_of(".:") != first.npos ||
                                         first == "localhost" || first.rfind('[', 0) == 0);
  std::string_view path = name;
  if (has_host) {
    if (!is_domain(first)) {
      why = "'" + std::string(first) + "' is not a valid registry host[:port]";
      return out;
    }
    out.registry = first;
    path = name.substr(slash + 1);
  } else {
    out.registry = "docker.io";
  }
  if (out.registry == "index.docker.io") out.registry = "docker.io";
  if (name.size() > 255) {
    why = "the name is longer than 255 characters";
    return out;
  }
  size_t start = 0;
  while (true) {
    size_t next = path.find('/', start);
    std::string_view component = path.substr(start, next == path.npos ? path.npos : next - start);
    if (!is_path_component(component)) {
      why = "'" + std::string(path) +
            "' is not a valid repository name (lowercase letters and digits, separated by "
            "'.', '_', '__', '-' or '/')";
      return out;
    }
    if (next == path.npos) break;
    start = next + 1;
  }
  out.repository = path;
  if (out.registry == "docker.io" && path.find('/') == path.npos)
    out.repository = "library/" + out.repository;
  return out;
}

// NAME[:TAG][@sha256:HEX], with or without "docker://".
Reference parse_docker(const std::string& text, std::string_view rest, bool shorthand) {
  Reference ref;
  ref.transport = Transport::Docker;
  ref.shorthand = shorthand;
  size_t at = rest.find('@');
  if (at != rest.npos) {
    ref.digest = rest.substr(at + 1);
    if (!is_sha256_digest(ref.digest))
      bad(text, "'" + ref.digest + "' is not a digest (sha256: and 64 lowercase hex digits)");
    rest = rest.substr(0, at);
  }
  // A ':' after the last '/' starts the tag; earlier ones belong to HOST:PORT.
  size_t colon = rest.rfind(':');
  size_t slash = rest.rfind('/');
  if (colon != rest.npos && (slash == rest.npos || colon > slash)) {
    ref.tag = rest.substr(colon + 1);
    if (!is_tag(ref.tag))
      bad(text,
          "'" + ref.tag + "' is not a valid tag (letters, digits, '_', '.', '-'; at most 128)");
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) bad(text, "no repository name");
  ref.name = rest;
  std::string why;
  DockerName n = split_docker_name(rest, why);
  // A bare word that is no registry name is most often a mistyped local path.
  if (!why.empty())
    bad(text, why + (shorthand ? "; a local image needs a transport (dir:, oci:, oci-archive:, "
                                 "docker-archive:)"
                               : ""));
  ref.registry = n.registry;
  ref.repository = n.repository;
  if (ref.tag.empty() && ref.digest.empty()) {
    ref.tag = "latest";
    ref.tag_implied = true;
  }
  return ref;
}

// After "oci:" or "oci-archive:": PATH[:TAG], and for oci: PATH@sha256:HEX.
void parse_layout(const std::string& text, std::string_view rest, Reference& ref) {
  size_t at = rest.find("@sha256:");
  if (at != rest.npos && rest.substr(0, at).find(':') == rest.npos) {
    if (ref.transport != Transport::Oci)
      bad(text, "a digest selects an image only in oci: references");
    ref.path = rest.substr(0, at);
    ref.digest = rest.substr(at + 1);
    if (!is_sha256_digest(ref.digest))
      bad(text, "'" + ref.digest + "' is not a digest (sha256: and 64 lowercase hex digits)");
    return;
  }
  size_t colon = rest.find(':');
  ref.path = rest.substr(0, colon);
  if (colon == rest.npos) return;
  ref.tag = rest.substr(colon + 1);
  if (!is_ref_name(ref.tag)) bad(text, "'" + ref.tag + "' is not a valid tag");
}

// After "docker-archive:": FILE[:NAME[:TAG]].
void parse_docker_archive(const std::string& text, std::string_view rest, Reference& ref) {
  size_t colon = rest.find(':');
  ref.path = rest.substr(0, colon);
  if (colon == rest.npos) return;
  std::string_view after = rest.substr(colon + 1);
  if (after.find('@') != after.npos)
    bad(text, "digests are not supported in docker-archive references");
  // NAME may hold a registry port ("host:5000/app"), so TAG is after the
  // last ':' that follows the last '/'.
  size_t slash = after.rfind('/');
  size_t tcolon = after.rfind(':');
  if (tcolon != after.npos && (slash == after.npos || tcolon > slash)) {
    ref.tag = after.substr(tcolon + 1);
    if (!is_tag(ref.tag)) bad(text, "'" + ref.tag + "' is not a valid tag");
    after = after.substr(0, tcolon);
  }
  ref.name = after;
  std::string why;
  if (ref.name.empty())
    why = "no image name before the tag";
  else
    split_docker_name(ref.name, why);
  if (!why.empty()) bad(text, why);
}

}  // namespace

std::string Reference::str() const {
  auto opt = [](char sep, const std::string& s) { return s.empty() ? s : sep + s; };
  switch (transport) {
    case Transport::Dir:
      return "dir:" + path;
    case Transport::Oci:
      return "oci:" + path + opt(':', tag) + opt('@', digest);
    case Transport::OciArchive:
      return "oci-archive:" + path + opt(':', tag);
    case Transport::DockerArchive:
      return "docker-archive:" + path + opt(':', name) + opt(':', tag);
    case Transport::Docker:
      return (shorthand ? "" : "docker://") + name + opt(':', tag_implied ? "" : tag) +
             opt('@', digest);
  }
  return path;
}

Reference parse_reference(const std::string& text) {
  struct Prefix {
    std::string_view name;
    Transport transport;
  };
  static const Prefix prefixes[] = {{"dir:", Transport::Dir},
                                    {"oci:", Transport::Oci},
                                    {"oci-archive:", Transport::OciArchive},
                                    {"docker-archive:", Transport::DockerArchive},
                                    {"docker://", Transport::Docker}};
  for (const auto& p : prefixes) {
    if (text.rfind(p.name, 0) != 0) continue;
    std::string_view rest = std::string_view(text).substr(p.name.size());
    Reference ref;
    ref.transport = p.transport;
    switch (p.transport) {
      case Transport::Dir:
        ref.path = rest;  // dir: takes the whole rest; ':' is a valid path character there
        break;
      case Transport::Oci:
      case Transport::OciArchive:
        parse_layout(text, rest, ref);
        break;
      case Transport::DockerArchive:
        parse_docker_archive(text, rest, ref);
        break;
      case Transport::Docker:
        return parse_docker(text, rest, false);
    }
    if (ref.path.empty()) bad(text, "no path");
    return ref;
  }
  // Anything else is a registry name (skopeo would say "docker://" is missing;
  // Docker and CI users write "golang:alpine").
  if (text.find("://") != std::string::npos || text.empty())
    throw Error("'" + text +
                    "' is not an image reference (dir:, oci:, oci-archive:, docker-archive:, "
                    "docker://HOST/REPO:TAG or REPO:TAG)",
                ErrorKind::Usage);
  return parse_docker(text, text, true);
}

}  // namespace dslim
