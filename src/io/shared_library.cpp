#include "dslim/shared_library.hpp"

#include <dlfcn.h>

#include <string>

namespace dslim {

std::span<void* const> LazyLibrary::functions() const {
  // call_once: loading is thread-safe, and a throw leaves it to the next call.
  std::call_once(loaded_, [this] {
    void* lib = ::dlopen(soname_, RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      throw Error(std::string("cannot load ") + soname_ + " (" + ::dlerror() + "): " + hint_,
                  kind_);
    }
    std::vector<void*> fns;
    fns.reserve(names_.size());
    for (const char* name : names_) {
      fns.push_back(::dlsym(lib, name));
      if (fns.back() == nullptr)
        throw Error(std::string(soname_) + " has no " + name + " (too old?)", kind_);
    }
    if (init_) init_(fns);
    functions_ = std::move(fns);
  });
  return functions_;
}

}  // namespace dslim
