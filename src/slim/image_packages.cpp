// image_packages(): the image's own package database first, since that is
// what scanners read; an attached SBOM for an image written without one
// (--no-package-metadata) or by another tool.
#include "dslim/image_packages.hpp"

#include "dslim/oci.hpp"
#include "dslim/source.hpp"

namespace dslim::slim {

ImagePackages image_packages(const Reference& ref, const std::string& digest,
                             const rootfs::RootFs& fs, const TransportOptions& options) {
  if (const auto db = packages::read_package_db(fs)) return {db->location(), db->all()};
  for (const auto& a : read_referrers(ref, digest, options)) {
    if (a.artifact_type != oci::media_type::kSpdxJson &&
        a.artifact_type != oci::media_type::kCycloneDxJson)
      continue;
    const std::string origin = "attached SBOM " + a.manifest_digest + " (" + a.artifact_type + ")";
    return {origin, packages::sbom_packages(a.content, ref.str() + " " + origin)};
  }
  return {};
}

}  // namespace dslim::slim
