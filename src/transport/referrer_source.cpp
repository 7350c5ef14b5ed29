// read_referrers(): the artifacts attached to an image, from a layout's
// index.json or a registry's referrers list.
#include "dslim/digest.hpp"
#include "dslim/error.hpp"
#include "dslim/registry_client.hpp"
#include "dslim/source.hpp"
#include "layout_files.hpp"
#include "oci_layout.hpp"
#include "source_errors.hpp"

namespace dslim {
namespace {

// A listing may be stale or forged: only a manifest that names the image
// as its subject, with a document, counts.
bool refers_to(const oci::Manifest& m, const std::string& subject) {
  return m.subject && m.subject->digest == subject && !m.layers.empty();
}

std::string artifact_type(const oci::Manifest& m) {
  return m.artifact_type.empty() ? m.config.media_type : m.artifact_type;
}

std::vector<Attachment> from_layout(const LayoutFiles& files, const std::string& subject,
                                    const std::string& what) {
  std::vector<Attachment> out;
  auto index_text = files.read(kIndexFile, what);
  if (!index_text) return out;
  const oci::Index index = oci::parse_index(*index_text, what + " index.json");
  for (const auto& d : index.manifests) {
    if (!oci::is_manifest_type(d.media_type) || d.annotations.contains(oci::kRefNameAnnotation))
      continue;
    const Blob manifest = layout_blob(files, d, what + " manifest", true);
    const oci::Manifest m =
        oci::parse_manifest(manifest.bytes(), what + " manifest " + manifest.digest());
    if (!refers_to(m, subject)) continue;
    const Blob content = layout_blob(files, m.layers.front(), what + " referrer", true);
    out.push_back({artifact_type(m), d.digest, std::string(content.bytes())});
  }
  return out;
}

std::vector<Attachment> from_registry(const Reference& ref, const std::string& subject,
                                      const TransportOptions& options) {
  const std::string what = ref.str();
  registry::RegistryClient client(ref.registry, ref.repository, options.registry);
  std::optional<std::string> list = client.referrers(subject);
  if (!list) {
    auto tagged = client.find_manifest(referrers_tag(subject));
    if (!tagged) return {};
    list = std::move(tagged->bytes);
  }
  std::vector<Attachment> out;
  const oci::Index index = oci::parse_index(*list, what + " referrers of " + subject);
  for (const auto& d : index.manifests) {
    if (!oci::is_manifest_type(d.media_type)) continue;
    auto fetched = client.get_manifest(d.digest);
    const oci::Manifest m = oci::parse_manifest(fetched.bytes, what + " manifest " + d.digest);
    if (!refers_to(m, subject)) continue;
    const oci::Descriptor& layer = m.layers.front();
    if (layer.size > kMaxJsonBlob)
      throw Error(what + ": referrer " + d.digest + " holds " + std::to_string(layer.size) +
                  " bytes, more than the " + std::to_string(kMaxJsonBlob) + " allowed");
    std::string content;
    client.get_blob(layer.digest, layer.size, [&](std::string_view chunk) { content += chunk; });
    out.push_back({artifact_type(m), d.digest, std::move(content)});
  }
  return out;
}

}  // namespace

std::vector<Attachment> read_referrers(const Reference& ref, const std::string& subject,
                                       const TransportOptions& options) {
  digest_hex(subject, ref.str() + ": referrers");
  return naming_source(ref, [&]() -> std::vector<Attachment> {
    switch (ref.transport) {
      case Transport::Oci:
        return from_layout(*directory_files(ref.path), subject, ref.str());
      case Transport::OciArchive:
        return from_layout(*archive_files(ref.path), subject, ref.str());
      case Transport::Docker:
        return from_registry(ref, subject, options);
      case Transport::DockerArchive:
      case Transport::Dir:
        break;
    }
    return {};
  });
}

}  // namespace dslim
