// /etc/ld.so.cache from an image: parse, then look every key up as the
// resolver would.
#include <span>

#include "dslim/error.hpp"
#include "dslim/ld_cache.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto cache = dslim::resolve::LdCache::parse(std::as_bytes(std::span(data, size)), "fuzz");
    for (const auto& e : cache.entries()) {
      (void)cache.lookup(e.key, 0x0303);
      (void)cache.lookup(e.key, 0x0003);
      (void)cache.hwcaps_variants(e.key, e.flags);
    }
  } catch (const dslim::Error&) {
  }
  return 0;
}
