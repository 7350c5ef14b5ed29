#pragma once
// Writing an Image to a destination reference (DESIGN.md §4, §5). Every sink
// writes to temporary names in the destination's directory and renames them,
// so a failure leaves the previous output (or nothing) and no temp files.
//   oci:DIR[:TAG]            layout created, or TAG added/replaced keeping the other tags
//   oci-archive:FILE[:TAG]   the same layout as one tar
//   docker-archive:FILE[:NAME[:TAG]]  `docker save` format (manifest.json, repositories)
//                            plus an OCI layout in the same tar
//   dir:DIR                  the layers unpacked (the rootfs); DIR must not exist or be empty
//   docker://HOST/REPO[:TAG] pushed: missing blobs, then the manifest
// Missing TAG means "latest"; docker-archive without NAME gets no RepoTags.
// Referrers (SBOMs about the image) go beside it where the destination can
// hold them: untagged index.json entries in a layout; in a registry, pushed
// by digest and listed by the referrers API, or by the registry's
// `sha256-<hex>` tag where it lacks that API. They are written before the
// tag moves, so the tag never names an image whose referrers are missing.
#include "dslim/image.hpp"
#include "dslim/reference.hpp"
#include "dslim/referrer.hpp"
#include "dslim/transport_options.hpp"

namespace dslim {

inline constexpr const char* kDefaultTag = "latest";

// Throws dslim::Error naming the reference (and file) on failure. Returns
// the manifest digest the destination holds (a registry's, for a push).
std::string write_image(const Image& image, const Reference& dest,
                        const TransportOptions& options = {},
                        const std::vector<Referrer>& referrers = {});

// oci:, oci-archive: and docker:// hold referrers; docker-archive: and dir: cannot.
bool holds_referrers(Transport transport);

// An image index over images of several platforms (a multi-platform tag):
// oci:, oci-archive: and docker:// (the images by digest, the index under
// the tag, last); docker-archive: and dir: refuse it (Usage). Returns the
// index's digest. `referrers` (each image's SBOMs) go with it, as with
// write_image.
std::string write_index(const ImageIndex& index, const Reference& dest,
                        const TransportOptions& options = {},
                        const std::vector<Referrer>& referrers = {});
// Whether `transport` can hold an index: as holds_referrers.
bool holds_index(Transport transport);

}  // namespace dslim
