#pragma once
// The OCI image model (descriptor, config, manifest, index) and its JSON
// (DESIGN.md §4). Serialization is deterministic: keys sorted, compact, empty
// optional fields omitted, so the same values always give the same digest.
// Parsers accept Docker's media types as well and throw dslim::Error naming
// the blob on malformed JSON or a missing field.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dslim::oci {

namespace media_type {
inline constexpr const char* kManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr const char* kIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr const char* kConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr const char* kLayerTar = "application/vnd.oci.image.layer.v1.tar";
inline constexpr const char* kLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr const char* kLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr const char* kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr const char* kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr const char* kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr const char* kDockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
// OCI 1.1 artifacts: the config of a manifest that is not an image, and the
// SBOM documents dslim attaches to the images it writes.
inline constexpr const char* kEmpty = "application/vnd.oci.empty.v1+json";
inline constexpr const char* kSpdxJson = "application/spdx+json";
inline constexpr const char* kCycloneDxJson = "application/vnd.cyclonedx+json";
}  // namespace media_type

// The tag annotation of index.json entries.
inline constexpr const char* kRefNameAnnotation = "org.opencontainers.image.ref.name";
inline constexpr const char* kCreatedAnnotation = "org.opencontainers.image.created";
inline constexpr const char* kTitleAnnotation = "org.opencontainers.image.title";

struct Platform {
  std::string os = "linux";
  std::string architecture;
  std::string variant;  // empty when the architecture has none
  bool operator==(const Platform&) const = default;
};

struct Descriptor {
  std::string media_type;
  std::string digest;
  uint64_t size = 0;
  std::map<std::string, std::string> annotations;
  std::optional<Platform> platform;
  std::string artifact_type;  // an artifact's, in referrers lists and index.json; empty: omitted
  bool operator==(const Descriptor&) const = default;
};

// The runtime part of an image config ("config" in the JSON). Empty fields
// are omitted from the JSON.
struct ContainerConfig {
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> env;  // "K=V"
  std::string user;
  std::string working_dir;
  std::vector<std::string> exposed_ports;  // "80/tcp"; kept sorted and unique in the JSON
  std::map<std::string, std::string> labels;
  std::vector<std::string> volumes;  // "/data"; kept sorted and unique in the JSON
  std::string stop_signal;           // "SIGQUIT"; empty: the runtime's SIGTERM
  bool operator==(const ContainerConfig&) const = default;
};

struct History {
  std::string created;  // RFC 3339
  std::string created_by;
  std::string comment;
  bool empty_layer = false;
  bool operator==(const History&) const = default;
};

struct ImageConfig {
  Platform platform;
  std::string created;  // RFC 3339, empty = omitted
  ContainerConfig config;
  std::vector<std::string> diff_ids;  // sha256 of each *uncompressed* layer tar
  std::vector<History> history;
  bool operator==(const ImageConfig&) const = default;
};

struct Manifest {
  std::string media_type = media_type::kManifest;
  std::string artifact_type;  // set for an artifact (an SBOM), empty for an image
  Descriptor config;
  std::vector<Descriptor> layers;
  std::optional<Descriptor> subject;  // the image an artifact refers to (OCI 1.1)
  std::map<std::string, std::string> annotations;
  bool operator==(const Manifest&) const = default;
};

struct Index {
  std::vector<Descriptor> manifests;
  std::map<std::string, std::string> annotations;
  bool operator==(const Index&) const = default;
};

// "1970-01-01T00:00:00Z" for a Unix time (UTC, whole seconds).
std::string rfc3339(int64_t epoch_seconds);

// Deterministic JSON text (sorted keys, compact).
std::string to_json(const ImageConfig& config);
std::string to_json(const Manifest& manifest);
std::string to_json(const Index& index);

// `what` names the blob in error messages ("oci:out:latest manifest sha256:…").
ImageConfig parse_config(std::string_view json, const std::string& what);
Manifest parse_manifest(std::string_view json, const std::string& what);
Index parse_index(std::string_view json, const std::string& what);

// "linux/amd64", "linux/arm/v7"; a bare "arm64" means linux/arm64. Throws
// dslim::Error (Usage) naming `text` when it is malformed.
Platform parse_platform(std::string_view text);
std::string to_string(const Platform& platform);

// True for the OCI and Docker single-image manifest types / index types.
bool is_manifest_type(std::string_view media_type);
bool is_index_type(std::string_view media_type);

}  // namespace dslim::oci
