#pragma once
// What `dslim --version` prints: dslim's version and commit, and the
// versions of the libraries it runs with.
#include <string>

namespace dslim::cli {

std::string version_text();

}  // namespace dslim::cli
