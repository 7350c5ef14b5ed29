// /etc/ld-musl-$ARCH.path, and the DT_RPATH / LD_LIBRARY_PATH splitters that
// take the same kind of text from an image.
#include <string>

#include "dslim/error.hpp"
#include "dslim/loader_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    (void)dslim::resolve::parse_musl_path(text);
    (void)dslim::resolve::split_search_path(text);
    (void)dslim::resolve::split_rpath(text);
  } catch (const dslim::Error&) {
  }
  return 0;
}
