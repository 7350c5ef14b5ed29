#pragma once
// The OCI image layout (oci-layout, index.json, blobs/sha256/HEX) as files,
// shared by the oci:, oci-archive: and docker-archive: sinks and sources.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "dslim/image.hpp"

namespace dslim {

inline constexpr const char* kOciLayoutFile = "oci-layout";
inline constexpr const char* kOciLayoutJson = R"({"imageLayoutVersion":"1.0.0"})";
inline constexpr const char* kIndexFile = "index.json";

// "blobs/sha256/HEX"; throws for a malformed digest.
std::string blob_path(const std::string& digest);

// Every blob of the image once (layers may repeat), sorted by digest.
std::vector<const Blob*> unique_blobs(const Image& image);

// Points `tag` at the image: replaces the entry carrying that tag in place,
// or appends one.
void set_tag(oci::Index& index, const Image& image, const std::string& tag);

// The platform an index is read for until `--platform` exists.
inline const oci::Platform kDefaultPlatform{"linux", "amd64", ""};

// The manifest of `index` for `want` (a variant only when `want` names one),
// never an unknown/unknown attestation entry; a lone entry without a
// platform is taken as is. Throws dslim::Error naming `what` otherwise.
const oci::Descriptor& select_platform(const oci::Index& index, const oci::Platform& want,
                                       const std::string& what);

// Throws unless `text` is an oci-layout file of version 1.x.
void check_oci_layout(std::string_view text, const std::string& what);

// Reading a layout whose files come from `read` (relative paths; nullopt when
// absent). Picks the manifest tagged `tag`, or the only one when `tag` is
// empty, and verifies every blob's digest.
using ReadLayoutFile = std::function<std::optional<std::string>(const std::string& path)>;
Image read_oci_layout(const ReadLayoutFile& read, const std::string& tag, const std::string& what);

}  // namespace dslim
