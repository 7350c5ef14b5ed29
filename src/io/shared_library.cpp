#include "dslim/shared_library.hpp"

#include <dlfcn.h>

namespace dslim {

std::vector<void*> load_functions(const char* soname, std::span<const char* const> names,
                                  const std::string& hint, ErrorKind kind) {
  void* lib = ::dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    throw Error(std::string("cannot load ") + soname + " (" + ::dlerror() + "): " + hint, kind);
  }
  std::vector<void*> fns;
  fns.reserve(names.size());
  for (const char* name : names) {
    fns.push_back(::dlsym(lib, name));
    if (fns.back() == nullptr)
      throw Error(std::string(soname) + " has no " + name + " (too old?)", kind);
  }
  return fns;
}

}  // namespace dslim
