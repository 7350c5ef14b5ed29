#pragma once
// Where the CA certificates that registries are checked against are, when
// --cert-dir names none of its own (it adds to them).
#include <string>

namespace dslim::registry {

struct CaLocations {
  std::string file;  // a PEM bundle; empty: libcurl's built-in default
  std::string dir;   // a hashed directory (c_rehash); empty: libcurl's default
};

// $SSL_CERT_FILE and $SSL_CERT_DIR (as OpenSSL's own tools read them), else
// the first system bundle that exists: Debian's (libcurl's default) or
// another distribution's, as the static release dslim runs in any root.
CaLocations system_ca_locations();

// The places system_ca_locations() looked, for an error message.
std::string ca_search_text();

}  // namespace dslim::registry
