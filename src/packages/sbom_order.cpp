// See sbom_order.hpp.
#include "packages/sbom_order.hpp"

#include <algorithm>
#include <tuple>

namespace dslim::packages {

SbomInput in_content_order(SbomInput input) {
  std::stable_sort(input.packages.begin(), input.packages.end(),
                   [](const Package& a, const Package& b) {
                     return std::tie(a.name, a.architecture, a.version, a.ecosystem) <
                            std::tie(b.name, b.architecture, b.version, b.ecosystem);
                   });
  std::stable_sort(input.files.begin(), input.files.end(),
                   [](const AppFile& a, const AppFile& b) { return a.path < b.path; });
  return input;
}

}  // namespace dslim::packages
