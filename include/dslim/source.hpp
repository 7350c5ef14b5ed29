#pragma once
// Reading one image back from oci:, oci-archive: and docker-archive:
// references (for `dslim inspect`, and later as image sources). Every blob is
// checked against its digest as it is read; a mismatch is an error naming
// the blob. dir: is a RootFs, not an image, and is refused here.
#include "dslim/image.hpp"
#include "dslim/reference.hpp"

namespace dslim {

// Without a tag: the layout's only image (an error when there are several).
// docker-archive's manifest is synthesized from manifest.json (OCI media
// types, layer compression detected from the bytes). Throws dslim::Error.
Image load_image(const Reference& ref);

}  // namespace dslim
