// open_image_source(): load_image(), then a LayeredRootFs whose layers stream
// from where the image is stored into the layer store.
#include "dslim/image_source.hpp"

#include "dslim/source.hpp"

namespace dslim {

ImageSource open_image_source(const Reference& ref, const SourceOptions& options) {
  Image image = load_image(ref, options.platform.value_or(kDefaultPlatform), options.transport);
  std::vector<rootfs::LayerInput> layers;
  for (size_t i = 0; i < image.layers.size(); ++i) {
    const Blob& blob = image.layers[i];
    layers.push_back({blob.digest(), image.config.diff_ids.at(i), [blob] { return blob.open(); }});
  }
  ImageSource source;
  auto store = options.layers ? options.layers : rootfs::temporary_layer_store();
  source.fs = std::make_unique<rootfs::LayeredRootFs>(ref.str(), std::move(layers), store,
                                                      options.limits, options.observer);
  source.fs->set_max_symlink_hops(options.max_symlink_hops);
  source.config = image.config;
  source.size = image.total_size();
  source.digest = image.manifest_blob.digest();
  return source;
}

}  // namespace dslim
