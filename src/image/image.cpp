// Assembling an Image from layers (config + manifest) or from read blobs.
#include "dslim/image.hpp"

#include "dslim/error.hpp"

namespace dslim {

oci::Descriptor Image::manifest_descriptor() const {
  oci::Descriptor d = manifest_blob.descriptor();
  d.platform = config.platform;
  return d;
}

uint64_t Image::total_size() const {
  uint64_t n = config_blob.size() + manifest_blob.size();
  for (const auto& l : layers) n += l.size();
  return n;
}

Image build_image(const ImageSpec& spec, const std::vector<Layer>& layers) {
  if (spec.platform.architecture.empty() || spec.platform.os.empty())
    throw Error("image platform needs an os and an architecture", ErrorKind::Usage);
  Image img;
  img.epoch = spec.epoch;
  std::string created = oci::rfc3339(spec.epoch);
  img.config.platform = spec.platform;
  img.config.created = created;
  img.config.config = spec.config;
  for (const auto& l : layers) {
    img.config.diff_ids.push_back(l.diff_id);
    img.config.history.push_back({created, "dslim", spec.history_comment, false});
    img.layers.push_back(l.blob);
  }
  img.config_blob = Blob::from_bytes(oci::media_type::kConfig, oci::to_json(img.config));

  img.manifest.config = img.config_blob.descriptor();
  for (const auto& l : img.layers) img.manifest.layers.push_back(l.descriptor());
  img.manifest.annotations = spec.manifest_annotations;
  img.manifest_blob = Blob::from_bytes(oci::media_type::kManifest, oci::to_json(img.manifest));
  return img;
}

uint64_t ImageIndex::total_size() const {
  uint64_t n = index_blob.size();
  for (const auto& i : images) n += i.total_size();
  return n;
}

ImageIndex build_index(std::vector<Image> images) {
  ImageIndex out;
  for (const auto& img : images) {
    for (const auto& d : out.index.manifests)
      if (d.platform == img.config.platform)
        throw Error("two images for " + oci::to_string(img.config.platform) +
                        ": an index holds one per platform",
                    ErrorKind::Usage);
    out.index.manifests.push_back(img.manifest_descriptor());
    out.epoch = std::max(out.epoch, img.epoch);
  }
  out.index_blob = Blob::from_bytes(oci::media_type::kIndex, oci::to_json(out.index));
  out.images = std::move(images);
  return out;
}

Image image_from_blobs(Blob manifest, Blob config, std::vector<Blob> layers,
                       const std::string& what) {
  Image img;
  img.manifest = oci::parse_manifest(manifest.bytes(), what + " manifest " + manifest.digest());
  auto matches = [](const oci::Descriptor& d, const Blob& b) {
    return d.digest == b.digest() && d.size == b.size();
  };
  if (!matches(img.manifest.config, config))
    throw Error(what + ": manifest " + manifest.digest() + " names config " +
                img.manifest.config.digest + " but was given " + config.digest());
  if (img.manifest.layers.size() != layers.size())
    throw Error(what + ": manifest " + manifest.digest() + " lists " +
                std::to_string(img.manifest.layers.size()) + " layers, " +
                std::to_string(layers.size()) + " given");
  for (size_t i = 0; i < layers.size(); ++i)
    if (!matches(img.manifest.layers[i], layers[i]))
      throw Error(what + ": manifest " + manifest.digest() + " layer " + std::to_string(i) +
                  " is " + img.manifest.layers[i].digest + " (size " +
                  std::to_string(img.manifest.layers[i].size) + ") but the blob read is " +
                  layers[i].digest() + " (size " + std::to_string(layers[i].size()) + ")");
  img.config = oci::parse_config(config.bytes(), what + " config " + config.digest());
  if (img.config.diff_ids.size() != layers.size())
    throw Error(what + ": config " + config.digest() + " has " +
                std::to_string(img.config.diff_ids.size()) + " diff_ids for " +
                std::to_string(layers.size()) + " layers");
  img.manifest_blob = std::move(manifest);
  img.config_blob = std::move(config);
  img.layers = std::move(layers);
  return img;
}

}  // namespace dslim
