#include "oci_layout.hpp"

#include <nlohmann/json.hpp>

#include <map>

#include "dslim/digest.hpp"
#include "dslim/error.hpp"
#include "sinks.hpp"

namespace dslim {

std::string blob_path(const std::string& digest) {
  return "blobs/sha256/" + digest_hex(digest, "blob");
}

namespace {

// Blobs keyed by digest: each once, sorted.
using BlobSet = std::map<std::string, const Blob*>;

void add_image(BlobSet& set, const Image& image) {
  set.emplace(image.config_blob.digest(), &image.config_blob);
  set.emplace(image.manifest_blob.digest(), &image.manifest_blob);
  for (const auto& l : image.layers) set.emplace(l.digest(), &l);
}

std::vector<const Blob*> sorted(const BlobSet& set) {
  std::vector<const Blob*> out;
  for (const auto& [d, b] : set) out.push_back(b);
  return out;
}

// The referrers' blobs into `set`, and the referrers into `pub`.
void add_referrer_blobs(BlobSet& set, Publication& pub, std::vector<Referrer> referrers) {
  pub.referrers = std::move(referrers);
  for (const auto& r : pub.referrers)
    for (const Blob* b : {&r.manifest_blob, &r.config_blob, &r.content})
      set.emplace(b->digest(), b);
}

}  // namespace

std::vector<const Blob*> unique_blobs(const Image& image) {
  BlobSet set;
  add_image(set, image);
  return sorted(set);
}

oci::Descriptor Publication::descriptor() const {
  oci::Descriptor d = top->descriptor();
  d.platform = platform;
  return d;
}

Publication publication(const Image& image, std::vector<Referrer> referrers) {
  Publication pub;
  BlobSet set;
  add_image(set, image);
  add_referrer_blobs(set, pub, std::move(referrers));
  pub.blobs = sorted(set);
  pub.top = &image.manifest_blob;
  pub.platform = image.config.platform;
  pub.epoch = image.epoch;
  return pub;
}

Publication publication(const ImageIndex& index, std::vector<Referrer> referrers) {
  Publication pub;
  BlobSet set;
  for (const auto& image : index.images) {
    add_image(set, image);
    pub.manifests.push_back(&image.manifest_blob);
  }
  add_referrer_blobs(set, pub, std::move(referrers));
  set.emplace(index.index_blob.digest(), &index.index_blob);
  pub.blobs = sorted(set);
  pub.top = &index.index_blob;
  pub.epoch = index.epoch;
  return pub;
}

void set_tag(oci::Index& index, const oci::Descriptor& top, const std::vector<Referrer>& referrers,
             const std::string& tag) {
  for (const auto& r : referrers) add_referrer(index, r.descriptor());
  oci::Descriptor d = top;
  d.annotations[oci::kRefNameAnnotation] = tag;
  for (auto& m : index.manifests) {
    auto it = m.annotations.find(oci::kRefNameAnnotation);
    if (it != m.annotations.end() && it->second == tag) {
      m = d;
      return;
    }
  }
  index.manifests.push_back(d);
}

const oci::Descriptor& select_platform(const oci::Index& index, const oci::Platform& want,
                                       const std::string& what) {
  std::vector<const oci::Descriptor*> images;
  for (const auto& m : index.manifests) {
    // Attestation manifests (buildx provenance, SBOMs) claim unknown/unknown.
    if (m.platform && (m.platform->os == "unknown" || m.platform->architecture == "unknown"))
      continue;
    images.push_back(&m);
  }
  for (const auto* m : images) {
    if (m->platform && m->platform->os == want.os &&
        m->platform->architecture == want.architecture &&
        (want.variant.empty() || m->platform->variant == want.variant))
      return *m;
  }
  if (images.size() == 1 && !images.front()->platform) return *images.front();
  std::string have;
  for (const auto* m : images) {
    if (!have.empty()) have += ", ";
    have += m->platform ? oci::to_string(*m->platform) : "(no platform)";
  }
  throw Error(what + ": no image for " + oci::to_string(want) +
              (have.empty() ? "" : " (it has " + have + ")"));
}

void check_oci_layout(std::string_view text, const std::string& what) {
  try {
    auto j = nlohmann::json::parse(text);
    const auto& v = j.at("imageLayoutVersion");
    if (v.is_string() && v.get<std::string>().rfind("1.", 0) == 0) return;
  } catch (const nlohmann::json::exception&) {
  }
  throw Error(what + ": oci-layout is not an OCI image layout version 1.x");
}

Blob layout_blob(const LayoutFiles& files, const oci::Descriptor& d, const std::string& where,
                 bool json) {
  std::string path = blob_path(d.digest);
  auto content = files.file(path);
  if (!content) throw Error(where + ": blob " + d.digest + " is missing (" + path + ")");
  if (content->size() != d.size)
    throw Error(where + ": blob " + d.digest + " is corrupt (size " +
                std::to_string(content->size()) + ", expected " + std::to_string(d.size) + ")");
  Blob blob = Blob::claimed(d.media_type, d.digest, std::move(content), where);
  if (json) {
    if (d.size > kMaxJsonBlob)
      throw Error(where + ": blob " + d.digest + " is " + std::to_string(d.size) +
                  " bytes, more than the " + std::to_string(kMaxJsonBlob) + " allowed");
    blob.bytes();  // read and checked now: it is parsed next
  }
  return blob;
}

namespace {

// index.json's entry for `tag` or `digest`, or its only image.
oci::Descriptor layout_entry(const LayoutFiles& files, const std::string& tag,
                             const std::string& digest, const std::string& what) {
  auto layout = files.read(kOciLayoutFile, what);
  if (!layout) throw Error(what + ": not an OCI image layout (no oci-layout file)");
  check_oci_layout(*layout, what);
  auto index_text = files.read(kIndexFile, what);
  if (!index_text) throw Error(what + ": not an OCI image layout (no index.json)");
  oci::Index index = oci::parse_index(*index_text, what + " index.json");

  const oci::Descriptor* chosen = nullptr;
  if (!digest.empty()) {
    for (const auto& m : index.manifests)
      if (m.digest == digest) chosen = &m;
    if (!chosen) throw Error(what + ": no image with digest " + digest);
  } else if (tag.empty()) {
    // Attached SBOMs are entries too, but not images to pick.
    std::vector<const oci::Descriptor*> images;
    for (const auto& m : index.manifests)
      if (!is_artifact_entry(m)) images.push_back(&m);
    if (images.size() != 1)
      throw Error(what + ": holds " + std::to_string(images.size()) +
                  " images; name one with :TAG");
    chosen = images.front();
  } else {
    for (const auto& m : index.manifests) {
      auto it = m.annotations.find(oci::kRefNameAnnotation);
      if (it != m.annotations.end() && it->second == tag) chosen = &m;
    }
    if (!chosen) throw Error(what + ": no image tagged '" + tag + "'");
  }
  return *chosen;
}

}  // namespace

std::optional<oci::Index> read_layout_index(const LayoutFiles& files, const std::string& tag,
                                            const std::string& digest, const std::string& what) {
  const oci::Descriptor entry = layout_entry(files, tag, digest, what);
  if (!oci::is_index_type(entry.media_type)) return std::nullopt;
  Blob index_blob = layout_blob(files, entry, what + " index", true);
  return oci::parse_index(index_blob.bytes(), what + " index " + index_blob.digest());
}

Image read_oci_layout(const LayoutFiles& files, const std::string& tag, const std::string& digest,
                      const oci::Platform& platform, const std::string& what) {
  // An index (multi-platform image) picks one of its manifests; indexes may
  // nest, but only a few levels deep in practice.
  oci::Descriptor picked = layout_entry(files, tag, digest, what);
  for (int depth = 0; oci::is_index_type(picked.media_type); ++depth) {
    if (depth == 4) throw Error(what + ": image indexes nest too deep at " + picked.digest);
    Blob index_blob = layout_blob(files, picked, what + " index", true);
    oci::Index nested =
        oci::parse_index(index_blob.bytes(), what + " index " + index_blob.digest());
    picked = select_platform(nested, platform, what + " index " + index_blob.digest());
  }
  Blob manifest = layout_blob(files, picked, what + " manifest", true);
  oci::Manifest m = oci::parse_manifest(manifest.bytes(), what + " manifest " + manifest.digest());
  Blob config = layout_blob(files, m.config, what + " config", true);
  std::vector<Blob> layers;
  for (const auto& l : m.layers) layers.push_back(layout_blob(files, l, what + " layer", false));
  return image_from_blobs(std::move(manifest), std::move(config), std::move(layers), what);
}

}  // namespace dslim
