#pragma once
// WWW-Authenticate challenges (RFC 7235 §4.1), as registries send them:
//   Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="…"
//   Basic realm="Registry Realm"
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace dslim::registry {

struct Challenge {
  std::string scheme;                         // lowercased: "bearer", "basic"
  std::map<std::string, std::string> params;  // names lowercased, values unquoted

  std::string param(const std::string& name) const;  // "" when absent
};

// Every challenge in a header value (several headers joined with ", " are one
// value). Malformed trailing text is ignored rather than rejected: the caller
// then finds no usable challenge and says so.
std::vector<Challenge> parse_www_authenticate(std::string_view header);

}  // namespace dslim::registry
