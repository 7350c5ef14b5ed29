// Reading an image from a registry: manifests (and an index's pick) now;
// the config through the blob cache; layers only when the layer store has
// not indexed them before, fetched into the blob cache (or a temporary
// file) as they are first read. A warm run fetches no blob at all.
#include <unistd.h>

#include "dslim/digest.hpp"
#include "dslim/error.hpp"
#include "dslim/reference.hpp"
#include "dslim/transport_options.hpp"
#include "layout_files.hpp"
#include "oci_layout.hpp"
#include "temp_path.hpp"

namespace dslim {
namespace {

// Appends a pulled blob's bytes to `fd`.
void fetch_into(int fd, const Reference& ref, const oci::Descriptor& d,
                const registry::RegistryOptions& options) {
  registry::RegistryClient client(ref.registry, ref.repository, options);  // one per thread
  client.get_blob(d.digest, d.size, [&](std::string_view chunk) {
    while (!chunk.empty()) {
      ssize_t n = ::write(fd, chunk.data(), chunk.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw_errno("cannot store blob " + d.digest + " in", "the cache");
      chunk.remove_prefix(static_cast<size_t>(n));
    }
  });
}

// A blob of the registry, pulled on first read.
class PulledContent : public BlobContent {
 public:
  PulledContent(Reference ref, oci::Descriptor d, TransportOptions options)
      : ref_(std::move(ref)), d_(std::move(d)), options_(std::move(options)) {}
  uint64_t size() const override { return d_.size; }
  std::unique_ptr<ByteReader> open() const override {
    auto fill = [&](int fd) { fetch_into(fd, ref_, d_, options_.registry); };
    if (!options_.cache) return scratch_content(fill, ref_.str() + " " + d_.digest)->open();
    if (auto cached = options_.cache->get(d_.digest, d_.media_type)) return cached->open();
    return options_.cache->store(d_.digest, d_.media_type, fill).open();
  }

 private:
  Reference ref_;
  oci::Descriptor d_;
  TransportOptions options_;
};

}  // namespace

Image read_registry(const Reference& ref, const oci::Platform& platform,
                    const TransportOptions& options) {
  const std::string what = ref.str();
  registry::RegistryClient client(ref.registry, ref.repository, options.registry);
  auto fetched = client.get_manifest(ref.digest.empty() ? ref.tag : ref.digest);
  // An index (multi-platform image) picks one of its manifests.
  for (int depth = 0; oci::is_index_type(fetched.media_type); ++depth) {
    if (depth == 4) throw Error(what + ": image indexes nest too deep at " + fetched.digest);
    oci::Index index = oci::parse_index(fetched.bytes, what + " index " + fetched.digest);
    const auto& picked = select_platform(index, platform, what + " index " + fetched.digest);
    fetched = client.get_manifest(picked.digest);
  }
  Blob manifest = Blob::verified(fetched.media_type, fetched.digest, std::move(fetched.bytes),
                                 what + " manifest");
  oci::Manifest m = oci::parse_manifest(manifest.bytes(), what + " manifest " + manifest.digest());

  if (m.config.size > kMaxJsonBlob)
    throw Error(what + ": config " + m.config.digest + " is " + std::to_string(m.config.size) +
                " bytes, more than the " + std::to_string(kMaxJsonBlob) + " allowed");
  PulledContent config_content(ref, m.config, options);
  auto reader = config_content.open();
  Blob config = Blob::verified(m.config.media_type, m.config.digest,
                               read_all(*reader, kMaxJsonBlob, what + " config"), what + " config");
  std::vector<Blob> layers;
  for (const auto& l : m.layers) {
    // Checked as they stream: by get_blob when pulled, by the cache when kept.
    layers.push_back(Blob::from_content(l.media_type, l.digest,
                                        std::make_shared<PulledContent>(ref, l, options)));
  }
  return image_from_blobs(std::move(manifest), std::move(config), std::move(layers), what);
}

}  // namespace dslim
