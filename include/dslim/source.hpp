#pragma once
// Reading one image from oci:, oci-archive:, docker-archive: and docker://
// references.
// Manifests and configs are read and checked now; layers stay where they are
// stored and are checked against their digest while they stream. dir: is a
// RootFs, not an image, and is refused here.
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

}  // namespace dslim
