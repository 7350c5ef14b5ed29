// Platforms as users and `--platform` spell them: OS/ARCH[/VARIANT].
#include "dslim/error.hpp"
#include "dslim/oci.hpp"

namespace dslim::oci {

Platform parse_platform(std::string_view text) {
  std::vector<std::string> parts;
  size_t at = 0;
  for (;;) {
    size_t slash = text.find('/', at);
    parts.emplace_back(text.substr(at, slash == std::string_view::npos ? slash : slash - at));
    if (slash == std::string_view::npos) break;
    at = slash + 1;
  }
  if (parts.size() == 1) parts.insert(parts.begin(), "linux");
  bool ok = parts.size() <= 3;
  for (const auto& p : parts) {
    ok = ok && !p.empty();
    for (char c : p) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  }
  if (!ok)
    throw Error("invalid platform '" + std::string(text) +
                    "': expected OS/ARCH[/VARIANT], e.g. linux/amd64 or linux/arm/v7",
                ErrorKind::Usage);
  return {parts[0], parts[1], parts.size() == 3 ? parts[2] : ""};
}

std::string to_string(const Platform& p) {
  return p.os + "/" + p.architecture + (p.variant.empty() ? "" : "/" + p.variant);
}

}  // namespace dslim::oci
