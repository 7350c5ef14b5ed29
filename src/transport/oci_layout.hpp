#pragma once
// The OCI image layout (oci-layout, index.json, blobs/sha256/HEX) as files,
// shared by the oci:, oci-archive: and docker-archive: sinks and sources.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "dslim/image.hpp"
#include "dslim/referrer.hpp"
#include "layout_files.hpp"

namespace dslim {

inline constexpr const char* kOciLayoutFile = "oci-layout";
inline constexpr const char* kOciLayoutJson = R"({"imageLayoutVersion":"1.0.0"})";
inline constexpr const char* kIndexFile = "index.json";

// "blobs/sha256/HEX"; throws for a malformed digest.
std::string blob_path(const std::string& digest);

// Every blob of the image once (layers may repeat), sorted by digest.
std::vector<const Blob*> unique_blobs(const Image& image);

// Points `tag` at `top` (replacing the entry carrying that tag in place, or
// appending one) and lists the referrers untagged, once each.
void set_tag(oci::Index& index, const oci::Descriptor& top, const std::vector<Referrer>& referrers,
             const std::string& tag);

// The manifest of `index` for `want` (a variant only when `want` names one),
// never an unknown/unknown attestation entry; a lone entry without a
// platform is taken as is. Throws dslim::Error naming `what` otherwise.
const oci::Descriptor& select_platform(const oci::Index& index, const oci::Platform& want,
                                       const std::string& what);

// Throws unless `text` is an oci-layout file of version 1.x.
void check_oci_layout(std::string_view text, const std::string& what);

// A blob of the layout, described by `d`: `json` ones (index, manifest,
// config) are read and verified now, layers are checked as they stream.
Blob layout_blob(const LayoutFiles& files, const oci::Descriptor& d, const std::string& where,
                 bool json);

// The image index the layout's entry for `tag` (or `digest`, or its only
// image) is, when it is one.
std::optional<oci::Index> read_layout_index(const LayoutFiles& files, const std::string& tag,
                                            const std::string& digest, const std::string& what);

// Reading a layout from `files`. Picks the manifest tagged `tag`, or with
// `digest`, or the only one when both are empty; from an index, the image for
// `platform`.
Image read_oci_layout(const LayoutFiles& files, const std::string& tag, const std::string& digest,
                      const oci::Platform& platform, const std::string& what);

}  // namespace dslim
