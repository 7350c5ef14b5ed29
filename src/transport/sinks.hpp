#pragma once
// One function per destination transport; write_image() dispatches.
#include <filesystem>
#include <map>
#include <string>

#include "dslim/image.hpp"
#include "dslim/oci.hpp"
#include "dslim/reference.hpp"
#include "dslim/transport_options.hpp"

namespace dslim {

void write_oci_dir(const Image& image, const Reference& ref);
void write_oci_archive(const Image& image, const Reference& ref);
void write_docker_archive(const Image& image, const Reference& ref);
void write_rootfs_dir(const Image& image, const Reference& ref);
// Returns the digest the registry holds the manifest under.
std::string write_registry(const Image& image, const Reference& ref,
                           const TransportOptions& options);

// Writes an OCI layout for `image` and `index`, plus `extra` top-level files,
// as one tar to `fd`, entries sorted by name.
void write_layout_tar(int fd, const std::string& name, const Image& image, const oci::Index& index,
                      const std::map<std::string, std::string>& extra);

// Absolute, normalized destination path without a trailing '/', its parent
// directory created when missing (with symlinks resolved, so later checks
// against symlinks see only what the image itself puts there).
std::filesystem::path prepare_destination(const std::string& path);

}  // namespace dslim
