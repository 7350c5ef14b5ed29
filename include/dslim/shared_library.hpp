#pragma once
// Shared libraries loaded on first use, for what only some commands need:
// linking them would load them, and all they pull in, at the start of every
// command (page faults and relocations cost milliseconds on small machines).
// A shim defines the library's functions that dslim calls, each forwarding
// through a LazyLibrary; code includes the library's header as usual.
#include <mutex>
#include <span>
#include <vector>

#include "dslim/error.hpp"

namespace dslim {

class LazyLibrary {
 public:
  // Runs once, right after loading (libcurl wants curl_global_init first);
  // a throw leaves the loading to the next call.
  using Init = void (*)(std::span<void* const> functions);

  // `names`: the functions, in the order get() numbers them. `hint` says
  // what to install when the library cannot be loaded; errors are of `kind`.
  constexpr LazyLibrary(const char* soname, std::span<const char* const> names, const char* hint,
                        ErrorKind kind, Init init = nullptr)
      : soname_(soname), names_(names), hint_(hint), kind_(kind), init_(init) {}

  // Function `index` of `names`, typed as `declaration` (its declaration in
  // the library's header). Loads the library on the first call.
  template <typename Decl>
  Decl* get(size_t index, Decl& /*declaration*/) const {
    return reinterpret_cast<Decl*>(functions()[index]);
  }
  // Every function of `names`, loading the library if it is not loaded yet.
  std::span<void* const> functions() const;

 private:
  const char* soname_;
  std::span<const char* const> names_;
  const char* hint_;
  ErrorKind kind_;
  Init init_;
  mutable std::once_flag loaded_;
  mutable std::vector<void*> functions_;
};

}  // namespace dslim
