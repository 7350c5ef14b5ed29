// Image references as users and manifests spell them.
#include <string>

#include "dslim/error.hpp"
#include "dslim/reference.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    (void)dslim::parse_reference(std::string(reinterpret_cast<const char*>(data), size));
  } catch (const dslim::Error&) {
  }
  return 0;
}
