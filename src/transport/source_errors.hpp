#pragma once
// One error line naming the image reference whatever went wrong in a read.
#include <string>

#include "dslim/error.hpp"
#include "dslim/reference.hpp"

namespace dslim {

// Runs `read`; an error that does not already start with the reference (most
// from below do) gets it in front.
template <class F>
auto naming_source(const Reference& ref, F&& read) -> decltype(read()) {
  try {
    return read();
  } catch (const Error& e) {
    const std::string msg = e.what();
    if (msg.rfind(ref.str(), 0) == 0) throw;
    throw Error(ref.str() + ": " + msg, e.kind());
  }
}

}  // namespace dslim
