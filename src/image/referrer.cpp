// Building the artifact manifests that attach SBOMs to an image.
#include "dslim/referrer.hpp"

#include "dslim/digest.hpp"

namespace dslim {

oci::Descriptor Referrer::descriptor() const {
  oci::Descriptor d = manifest_blob.descriptor();
  d.artifact_type = manifest.artifact_type;
  d.annotations = manifest.annotations;
  return d;
}

Referrer build_referrer(const Image& subject, const std::string& artifact_type, std::string content,
                        const std::string& title, int64_t epoch) {
  Referrer r;
  r.config_blob = Blob::from_bytes(oci::media_type::kEmpty, "{}");
  r.content = Blob::from_bytes(artifact_type, std::move(content));
  r.manifest.artifact_type = artifact_type;
  r.manifest.config = r.config_blob.descriptor();
  oci::Descriptor layer = r.content.descriptor();
  if (!title.empty()) layer.annotations[oci::kTitleAnnotation] = title;
  r.manifest.layers.push_back(std::move(layer));
  r.manifest.subject = subject.manifest_blob.descriptor();
  r.manifest.annotations[oci::kCreatedAnnotation] = oci::rfc3339(epoch);
  r.manifest_blob = Blob::from_bytes(oci::media_type::kManifest, oci::to_json(r.manifest));
  return r;
}

std::string referrers_tag(const std::string& digest) {
  return "sha256-" + digest_hex(digest, "referrers tag");
}

bool add_referrer(oci::Index& list, const oci::Descriptor& d) {
  for (const auto& m : list.manifests)
    if (m.digest == d.digest) return false;
  list.manifests.push_back(d);
  return true;
}

bool is_artifact_entry(const oci::Descriptor& d) {
  return !d.artifact_type.empty();
}

}  // namespace dslim
