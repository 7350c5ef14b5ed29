// docker-archive:FILE[:NAME[:TAG]]: `docker save` format. manifest.json points
// at the blobs of an OCI layout in the same tar (as Docker >= 25 itself
// writes), so `docker load`, `podman load` and skopeo's docker-archive: and
// oci-archive: all read the one file. Layers stay gzip/zstd-compressed as
// built; docker load detects compression from the bytes.
#include <nlohmann/json.hpp>

#include "dslim/digest.hpp"
#include "dslim/sink.hpp"
#include "oci_layout.hpp"
#include "sinks.hpp"
#include "temp_path.hpp"

namespace dslim {

void write_docker_archive(const Image& image, const Reference& ref) {
  std::string file = prepare_destination(ref.path).string();
  std::string tag = ref.tag.empty() ? kDefaultTag : ref.tag;

  nlohmann::json repo_tags = nlohmann::json::array();
  if (!ref.name.empty()) repo_tags.push_back(ref.name + ":" + tag);
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& l : image.layers) layers.push_back(blob_path(l.digest()));
  nlohmann::json manifest = nlohmann::json::array();
  manifest.push_back({{"Config", blob_path(image.config_blob.digest())},
                      {"RepoTags", repo_tags},
                      {"Layers", layers}});

  std::map<std::string, std::string> extra;
  extra["manifest.json"] = manifest.dump();
  oci::Index index;
  if (!ref.name.empty()) {
    // The legacy `repositories` file maps NAME -> TAG -> top layer id.
    std::string top = image.layers.empty() ? digest_hex(image.config_blob.digest(), "config")
                                           : digest_hex(image.layers.back().digest(), "layer");
    extra["repositories"] = nlohmann::json({{ref.name, {{tag, top}}}}).dump();
    set_tag(index, image.manifest_descriptor(), {}, tag);
    index.manifests.back().annotations["io.containerd.image.name"] = ref.name + ":" + tag;
  } else {
    index.manifests.push_back(image.manifest_descriptor());
  }

  TempFile tmp(file);
  write_layout_tar(tmp.fd(), file, unique_blobs(image), index, extra, image.epoch);
  tmp.commit();
}

}  // namespace dslim
