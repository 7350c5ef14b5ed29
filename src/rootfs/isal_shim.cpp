// ISA-L's inflate, loaded on first use. Debian ships ISA-L only as a shared
// library, and only a cold read of an image layer inflates: `dslim deps`
// and warm runs never do, so they should not pay for loading it. Code calls
// ISA-L as usual (#include <isa-l/igzip_lib.h>); a function used but not
// defined here fails to link: add it to kNames and define it below.
#include <isa-l/igzip_lib.h>

#include <array>

#include "dslim/shared_library.hpp"

namespace {

enum Fn { kInflateInit, kInflate, kCount };
constexpr std::array<const char*, kCount> kNames = {"isal_inflate_init", "isal_inflate"};

constinit const dslim::LazyLibrary kIsal("libisal.so.2", kNames,
                                         "install libisal2 to read gzip layers",
                                         dslim::ErrorKind::Input);

}  // namespace

extern "C" {

void isal_inflate_init(struct inflate_state* state) {
  kIsal.get(kInflateInit, isal_inflate_init)(state);
}

int isal_inflate(struct inflate_state* state) {
  return kIsal.get(kInflate, isal_inflate)(state);
}

}  // extern "C"
