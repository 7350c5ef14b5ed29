// open_image_source(): load_image() then LayeredRootFs over its layer blobs.
// The blobs are dropped once merged; only the inflated tars (mmap'd
// temporary files) and the index remain.
#include "dslim/image_source.hpp"

#include "dslim/layered_rootfs.hpp"
#include "dslim/source.hpp"

namespace dslim {

ImageSource open_image_source(const Reference& ref) {
  Image image = load_image(ref);
  std::vector<rootfs::LayerInput> layers;
  for (const auto& blob : image.layers) layers.push_back({blob.digest(), blob.bytes()});
  ImageSource source;
  source.fs = std::make_unique<rootfs::LayeredRootFs>(ref.str(), layers);
  source.env = image.config.config.env;
  source.platform = image.config.platform;
  return source;
}

}  // namespace dslim
