#pragma once
// Shared libraries loaded on first use, for what only some commands need:
// linking them would load them, and all they pull in, at the start of every
// command (page faults and relocations cost milliseconds on small machines).
#include <span>
#include <string>
#include <vector>

#include "dslim/error.hpp"

namespace dslim {

// dlopen()s `soname` and looks up each of `names`, in order. Throws Error of
// `kind` naming the library, with `hint` (what to install) when it cannot be
// loaded, or the missing function when it is too old.
std::vector<void*> load_functions(const char* soname, std::span<const char* const> names,
                                  const std::string& hint, ErrorKind kind);

}  // namespace dslim
