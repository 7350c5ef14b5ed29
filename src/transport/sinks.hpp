#pragma once
// One function per destination transport; write_image() dispatches.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dslim/image.hpp"
#include "dslim/oci.hpp"
#include "dslim/reference.hpp"
#include "dslim/referrer.hpp"
#include "dslim/transport_options.hpp"

namespace dslim {

// What the layout and registry sinks write: an image with its referrers, or
// an index over images.
struct Publication {
  std::vector<const Blob*> blobs;         // every blob once, sorted by digest; the manifests too
  const Blob* top = nullptr;              // the manifest or index the tag names
  std::optional<oci::Platform> platform;  // a single image's, for its index.json entry
  std::vector<const Blob*> manifests;     // an index's images: pushed by digest before it
  std::vector<Referrer> referrers;
  int64_t epoch = 0;  // mtime of archive entries

  // The top's descriptor, as index.json names it.
  oci::Descriptor descriptor() const;
};
Publication publication(const Image& image, std::vector<Referrer> referrers);
Publication publication(const ImageIndex& index, std::vector<Referrer> referrers);

void write_oci_dir(const Publication& pub, const Reference& ref);
void write_oci_archive(const Publication& pub, const Reference& ref);
void write_docker_archive(const Image& image, const Reference& ref);
void write_rootfs_dir(const Image& image, const Reference& ref);
// Returns the digest the registry holds the top under.
std::string write_registry(const Publication& pub, const Reference& ref,
                           const TransportOptions& options);

// Writes an OCI layout holding `blobs` and `index`, plus `extra` top-level
// files, as one tar to `fd`, entries sorted by name; `epoch` is their mtime.
void write_layout_tar(int fd, const std::string& name, const std::vector<const Blob*>& blobs,
                      const oci::Index& index, const std::map<std::string, std::string>& extra,
                      int64_t epoch);

// Absolute, normalized destination path without a trailing '/', its parent
// directory created when missing (with symlinks resolved, so later checks
// against symlinks see only what the image itself puts there).
std::filesystem::path prepare_destination(const std::string& path);

}  // namespace dslim
