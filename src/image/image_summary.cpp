// inspect's view of an image: files of every layer, largest first, and totals.
#include "dslim/image_summary.hpp"

#include <algorithm>

namespace dslim {

ImageSummary summarize(const Image& image) {
  std::vector<std::vector<LayerFile>> listings;
  for (const Blob& layer : image.layers) {
    auto r = layer.open();  // streamed and checked: layers can be hundreds of MB
    listings.push_back(list_layer_files(*r, "layer " + layer.digest()));
  }
  return summarize(image, std::move(listings));
}

ImageSummary summarize(const Image& image, std::vector<std::vector<LayerFile>> listings) {
  ImageSummary s;
  s.manifest_digest = image.manifest_blob.digest();
  s.config = image.config;
  s.layers = image.manifest.layers;
  s.image_bytes = image.total_size();
  for (size_t i = 0; i < image.layers.size(); ++i) {
    const Blob& layer = image.layers[i];
    s.layer_bytes += layer.size();
    for (auto& f : listings.at(i)) {
      if (f.type == LayerEntryType::File) {
        ++s.file_count;
        s.file_bytes += f.size;
      }
      s.files.push_back({std::move(f), i});
    }
  }
  std::stable_sort(s.files.begin(), s.files.end(), [](const SummaryFile& a, const SummaryFile& b) {
    if (a.file.size != b.file.size) return a.file.size > b.file.size;
    if (a.file.path != b.file.path) return a.file.path < b.file.path;
    return a.layer < b.layer;
  });
  return s;
}

}  // namespace dslim
