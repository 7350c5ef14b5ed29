#pragma once
// The packages of an image, as `dslim inspect --sbom` shows them: from the
// package database inside it (what scanners read), else from an SBOM
// attached to it as a referrer.
#include <string>
#include <vector>

#include "dslim/packages.hpp"
#include "dslim/reference.hpp"
#include "dslim/rootfs.hpp"
#include "dslim/transport_options.hpp"

namespace dslim::slim {

struct ImagePackages {
  // "/var/lib/dpkg/status", "/lib/apk/db/installed", "attached SBOM sha256:…
  // (application/spdx+json)"; empty when the image has neither.
  std::string origin;
  std::vector<packages::Package> packages;  // sorted by name
};

// `fs` is the image at `ref` (manifest `digest`) as a root.
ImagePackages image_packages(const Reference& ref, const std::string& digest,
                             const rootfs::RootFs& fs, const TransportOptions& options);

}  // namespace dslim::slim
