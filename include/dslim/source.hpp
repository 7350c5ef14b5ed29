#pragma once
// Reading one image from oci:, oci-archive:, docker-archive: and docker://
// references.
// Manifests and configs are read and checked now; layers stay where they are
// stored and are checked against their digest while they stream. dir: is a
// RootFs, not an image, and is refused here.
#include <optional>

#include "dslim/image.hpp"
#include "dslim/reference.hpp"
#include "dslim/transport_options.hpp"

namespace dslim {

// The platform read from an image index when none is asked for.
inline const oci::Platform kDefaultPlatform{"linux", "amd64", ""};

// Without a tag: the layout's only image (an error when there are several).
// From an index: the image for `platform`, never an attestation entry.
// docker-archive's manifest is synthesized from manifest.json (OCI media
// types, layer compression detected from the bytes). Throws dslim::Error.
// docker:// pulls manifests and the config now, layers when first read.
Image load_image(const Reference& ref, const oci::Platform& platform = kDefaultPlatform,
                 const TransportOptions& options = {});

// The image index `ref` names (a multi-platform image); nullopt when it
// names a single image. docker-archive: holds single images only.
std::optional<oci::Index> read_index(const Reference& ref, const TransportOptions& options = {});

// load_image of `ref` whose index read_index has given: a registry's image
// is fetched by its digest in `index`, the index not fetched again.
Image load_image(const Reference& ref, const oci::Index& index, const oci::Platform& platform,
                 const TransportOptions& options = {});

// An artifact attached to an image (an SBOM).
struct Attachment {
  std::string artifact_type;    // "application/spdx+json"
  std::string manifest_digest;  // the artifact's manifest
  std::string content;          // its first layer: the document
};

// The artifacts stored beside the image `subject` (a manifest digest) at
// `ref` whose manifest names it as subject: a layout's untagged index.json
// entries; a registry's referrers API, or its sha256-<hex> tag where it has
// no such API. docker-archive: holds none. Throws dslim::Error naming `ref`.
std::vector<Attachment> read_referrers(const Reference& ref, const std::string& subject,
                                       const TransportOptions& options = {});

}  // namespace dslim
