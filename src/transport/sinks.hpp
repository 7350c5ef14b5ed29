#pragma once
// One function per destination transport; write_image() dispatches.
#include <filesystem>
#include <map>
#include <string>

#include "dslim/image.hpp"
#include "dslim/oci.hpp"
#include "dslim/reference.hpp"
#include "dslim/referrer.hpp"
#include "dslim/transport_options.hpp"

namespace dslim {

void write_oci_dir(const Image& image, const std::vector<Referrer>& referrers,
                   const Reference& ref);
void write_oci_archive(const Image& image, const std::vector<Referrer>& referrers,
                       const Reference& ref);
void write_docker_archive(const Image& image, const Reference& ref);
void write_rootfs_dir(const Image& image, const Reference& ref);
// Returns the digest the registry holds the manifest under.
std::string write_registry(const Image& image, const std::vector<Referrer>& referrers,
                           const Reference& ref, const TransportOptions& options);

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
