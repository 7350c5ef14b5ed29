// ISA-L's inflate, loaded on first use. Debian ships ISA-L only as a shared
// library, and only a cold read of an image layer inflates: `dslim deps`
// and warm runs never do, so they should not pay for loading it. Code calls
// ISA-L as usual (#include <isa-l/igzip_lib.h>); a function used but not
// defined here fails to link: add it to kNames and define it below.
#include <isa-l/igzip_lib.h>

#include <array>
#include <vector>

#include "dslim/shared_library.hpp"

namespace {

enum Fn { kInflateInit, kInflate, kCount };
constexpr std::array<const char*, kCount> kNames = {"isal_inflate_init", "isal_inflate"};

const std::vector<void*>& functions() {
  static const std::vector<void*> fns = dslim::load_functions(
      "libisal.so.2", kNames, "install libisal2 to read gzip layers", dslim::ErrorKind::Input);
  return fns;
}

// The function `f`, typed as its declaration in igzip_lib.h.
template <typename Decl>
Decl* fn(Fn f, Decl&) {
  return reinterpret_cast<Decl*>(functions()[f]);
}

}  // namespace

extern "C" {

void isal_inflate_init(struct inflate_state* state) {
  fn(kInflateInit, isal_inflate_init)(state);
}

int isal_inflate(struct inflate_state* state) {
  return fn(kInflate, isal_inflate)(state);
}

}  // extern "C"
