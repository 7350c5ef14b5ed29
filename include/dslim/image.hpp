#pragma once
// Image: one single-platform image held as blobs (config, manifest, layers)
// plus their parsed forms. Built from layers by build_image(), or assembled
// from blobs a source read (image_from_blobs) — either way the blobs and the
// parsed values agree, so sinks only copy bytes.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "dslim/blob.hpp"
#include "dslim/layer_writer.hpp"
#include "dslim/oci.hpp"

namespace dslim {

struct ImageSpec {
  oci::Platform platform;       // from the ELF header
  oci::ContainerConfig config;  // Entrypoint, Cmd, Env, ...
  int64_t epoch = 0;            // `created` (SOURCE_DATE_EPOCH or 0)
  std::string history_comment;  // e.g. "dslim binary app"; history created_by is "dslim"
  std::map<std::string, std::string> manifest_annotations;
};

struct Image {
  oci::ImageConfig config;
  oci::Manifest manifest;
  Blob config_blob;
  Blob manifest_blob;
  std::vector<Blob> layers;  // in manifest order
  int64_t epoch = 0;         // mtime for archive entries sinks write around the blobs

  // The manifest's descriptor with the platform, as index.json lists it.
  oci::Descriptor manifest_descriptor() const;
  // Compressed bytes of every blob: config + manifest + layers.
  uint64_t total_size() const;
};

Image build_image(const ImageSpec& spec, const std::vector<Layer>& layers);

// Images of one program for several platforms under an image index (a
// multi-platform tag).
struct ImageIndex {
  std::vector<Image> images;  // in index order
  oci::Index index;
  Blob index_blob;
  int64_t epoch = 0;

  // Every blob's bytes: the index and each image's.
  uint64_t total_size() const;
};

// Throws dslim::Error (Usage) when two images share a platform.
ImageIndex build_index(std::vector<Image> images);

// Checks that the manifest names exactly `config` and `layers` (digest and
// size) and parses the config; throws dslim::Error naming `what` otherwise.
Image image_from_blobs(Blob manifest, Blob config, std::vector<Blob> layers,
                       const std::string& what);

}  // namespace dslim
