// Pushing an image: blobs the repository lacks (HEAD first), then the
// manifest under its tag, last, so a failed push never leaves the tag
// pointing at an image with missing blobs.
#include <algorithm>
#include <cstring>

#include "dslim/error.hpp"
#include "dslim/sink.hpp"
#include "dslim/transport_options.hpp"
#include "oci_layout.hpp"
#include "sinks.hpp"

namespace dslim {

std::string write_registry(const Image& image, const Reference& ref,
                           const TransportOptions& options) {
  if (!ref.digest.empty())
    throw Error("an image is pushed under a tag, not a digest", ErrorKind::Usage);
  registry::RegistryClient client(ref.registry, ref.repository, options.registry);
  for (const Blob* b : unique_blobs(image)) {
    if (b == &image.manifest_blob || client.has_blob(b->digest())) continue;
    std::string_view bytes = b->bytes();
    client.put_blob(b->digest(), b->size(), [bytes](uint64_t offset, char* buf, size_t n) {
      if (offset >= bytes.size()) return size_t{0};
      n = std::min<size_t>(n, bytes.size() - offset);
      std::memcpy(buf, bytes.data() + offset, n);
      return n;
    });
  }
  return client.put_manifest(ref.tag.empty() ? kDefaultTag : ref.tag,
                             image.manifest_blob.media_type(), image.manifest_blob.bytes());
}

}  // namespace dslim
