// Pushing an image or an index: blobs the repository lacks (HEAD first),
// then an index's images by digest, the manifests of the referrers (by
// digest) and their listing, then the top under its tag, last, so a failed
// push never leaves the tag pointing at missing blobs, images or SBOMs.
#include <algorithm>
#include <cstring>

#include "dslim/error.hpp"
#include "dslim/sink.hpp"
#include "dslim/transport_options.hpp"
#include "oci_layout.hpp"
#include "sinks.hpp"

namespace dslim {
namespace {

using registry::RegistryClient;

bool is_manifest_blob(const Blob* b, const Publication& pub) {
  if (b == pub.top ||
      std::find(pub.manifests.begin(), pub.manifests.end(), b) != pub.manifests.end())
    return true;
  return std::any_of(pub.referrers.begin(), pub.referrers.end(),
                     [b](const Referrer& r) { return b == &r.manifest_blob; });
}

void put_by_digest(RegistryClient& client, const Blob& manifest) {
  client.put_manifest(manifest.digest(), manifest.media_type(), manifest.bytes());
}

// The distribution spec's fallback for a registry without the referrers API
// (the one in Debian): the subject's referrers list is an index tagged
// sha256-<hex>, read, extended and written back.
void list_under_referrers_tag(RegistryClient& client, const Referrer& r) {
  const std::string tag = referrers_tag(r.manifest.subject->digest);
  oci::Index list;
  if (auto current = client.find_manifest(tag)) {
    if (!oci::is_index_type(current->media_type))
      throw Error("the tag " + tag + " holds a " + current->media_type +
                  ", not the referrers list of " + r.manifest.subject->digest);
    list = oci::parse_index(current->bytes, "referrers list " + tag);
  }
  if (add_referrer(list, r.descriptor()))
    client.put_manifest(tag, oci::media_type::kIndex, oci::to_json(list));
}

}  // namespace

std::string write_registry(const Publication& pub, const Reference& ref,
                           const TransportOptions& options) {
  if (!ref.digest.empty())
    throw Error("an image is pushed under a tag, not a digest", ErrorKind::Usage);
  RegistryClient client(ref.registry, ref.repository, options.registry);
  for (const Blob* b : pub.blobs) {
    if (is_manifest_blob(b, pub) || client.has_blob(b->digest())) continue;
    std::string_view bytes = b->bytes();
    client.put_blob(b->digest(), b->size(), [bytes](uint64_t offset, char* buf, size_t n) {
      if (offset >= bytes.size()) return size_t{0};
      n = std::min<size_t>(n, bytes.size() - offset);
      std::memcpy(buf, bytes.data() + offset, n);
      return n;
    });
  }
  for (const Blob* m : pub.manifests) put_by_digest(client, *m);
  for (const auto& r : pub.referrers) {
    auto pushed = client.put_manifest(r.manifest_blob.digest(), r.manifest_blob.media_type(),
                                      r.manifest_blob.bytes());
    // OCI-Subject: the registry lists it among the image's referrers itself.
    if (pushed.subject.empty()) list_under_referrers_tag(client, r);
  }
  return client
      .put_manifest(ref.tag.empty() ? kDefaultTag : ref.tag, pub.top->media_type(),
                    pub.top->bytes())
      .digest;
}

}  // namespace dslim
