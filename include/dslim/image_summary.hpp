#pragma once
// What `dslim inspect` and the post-build report show: every layer's entries,
// largest first, and the totals.
#include <cstdint>
#include <string>
#include <vector>

#include "dslim/image.hpp"
#include "dslim/layer_listing.hpp"

namespace dslim {

struct SummaryFile {
  LayerFile file;
  size_t layer = 0;  // index into Image::layers
};

struct ImageSummary {
  std::string manifest_digest;
  oci::ImageConfig config;
  std::vector<oci::Descriptor> layers;
  std::vector<SummaryFile> files;  // largest first, then by path, then layer
  uint64_t file_count = 0;         // regular files
  uint64_t file_bytes = 0;         // sum of regular file sizes (uncompressed)
  uint64_t layer_bytes = 0;        // sum of compressed layer sizes
  uint64_t image_bytes = 0;        // config + manifest + layers
};

// Reads every layer (throws dslim::Error for a corrupt one).
ImageSummary summarize(const Image& image);
// From listings already at hand (one per layer, e.g. Layer::files).
ImageSummary summarize(const Image& image, std::vector<std::vector<LayerFile>> listings);

}  // namespace dslim
