// The WWW-Authenticate header a registry (or anything posing as one) sends.
#include <string_view>

#include "registry/www_authenticate.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Documented not to throw: malformed text gives fewer challenges.
  for (const auto& c : dslim::registry::parse_www_authenticate(
           std::string_view(reinterpret_cast<const char*>(data), size)))
    (void)c.param("realm");
  return 0;
}
