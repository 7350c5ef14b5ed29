#include "ca_certs.hpp"

#include <unistd.h>

#include <array>
#include <cstdlib>

namespace dslim::registry {
namespace {

// Debian, Ubuntu, Alpine, Arch; Fedora, RHEL; openSUSE; OpenELEC; CentOS 7;
// Alpine and BSDs (the list Go's crypto/x509 looks through).
constexpr std::array<const char*, 6> kBundles = {
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
};

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

CaLocations system_ca_locations() {
  CaLocations out{env("SSL_CERT_FILE"), env("SSL_CERT_DIR")};
  if (out.file.empty()) {
    for (const char* bundle : kBundles) {
      if (::access(bundle, R_OK) == 0) {
        out.file = bundle;
        break;
      }
    }
  }
  return out;
}

std::string ca_search_text() {
  std::string out = "$SSL_CERT_FILE";
  for (const char* bundle : kBundles) out += std::string(", ") + bundle;
  return out;
}

}  // namespace dslim::registry
