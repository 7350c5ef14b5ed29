#pragma once
// The order both SBOM writers list things in: from the content alone, whatever
// order the caller gathered it in, so the same image gives the same bytes.
#include "dslim/packages.hpp"

namespace dslim::packages {

// Packages by name, architecture, version; files by path.
SbomInput in_content_order(SbomInput input);

}  // namespace dslim::packages
