// Manifests, indexes and image configs from a registry or an archive.
#include <string_view>

#include "dslim/error.hpp"
#include "dslim/oci.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  try {
    (void)dslim::oci::parse_manifest(json, "fuzz");
  } catch (const dslim::Error&) {
  }
  try {
    (void)dslim::oci::parse_index(json, "fuzz");
  } catch (const dslim::Error&) {
  }
  try {
    (void)dslim::oci::parse_config(json, "fuzz");
  } catch (const dslim::Error&) {
  }
  try {
    (void)dslim::oci::parse_platform(json);
  } catch (const dslim::Error&) {
  }
  return 0;
}
