// Reading an image from a registry: manifests (and an index's pick) now;
// the config through the blob cache; layers only when the layer store has
// not indexed them before, read as they download (and kept in the blob
// cache). A warm run fetches no blob at all.
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include "dslim/digest.hpp"
#include "dslim/error.hpp"
#include "dslim/fd_io.hpp"
#include "dslim/reference.hpp"
#include "dslim/transport_options.hpp"
#include "layout_files.hpp"
#include "oci_layout.hpp"
#include "temp_path.hpp"

namespace dslim {
namespace {

// A blob read while it downloads: a thread pulls it (get_blob checks the
// digest, resumes broken transfers) into the cache file, and hands each
// chunk to the reader too, so inflating a layer overlaps fetching it. The
// reader sees an error only after the bytes before it; the cache entry is
// published only when the whole blob has arrived and matched its digest.
class StreamingPull : public ByteReader {
 public:
  StreamingPull(Reference ref, oci::Descriptor d, TransportOptions options)
      : worker_([this, ref = std::move(ref), d = std::move(d), options = std::move(options)] {
          run(ref, d, options);
        }) {}
  ~StreamingPull() override {
    {
      std::lock_guard lock(mu_);
      cancelled_ = true;
    }
    changed_.notify_all();
    worker_.join();
  }

  size_t read(char* buf, size_t n) override {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [&] { return !chunks_.empty() || done_; });
    if (chunks_.empty()) {
      if (error_) std::rethrow_exception(error_);
      return 0;
    }
    std::string& front = chunks_.front();
    size_t take = std::min(n, front.size() - offset_);
    std::memcpy(buf, front.data() + offset_, take);
    offset_ += take;
    buffered_ -= take;
    if (offset_ == front.size()) {
      chunks_.pop_front();
      offset_ = 0;
    }
    lock.unlock();
    changed_.notify_all();
    return take;
  }

 private:
  // Bytes the download may run ahead of the reader.
  static constexpr size_t kAhead = 16 << 20;

  void run(const Reference& ref, const oci::Descriptor& d, const TransportOptions& options) {
    try {
      const std::string store_error = "cannot store blob " + d.digest + " in the cache";
      auto pull = [&](int fd) {
        registry::RegistryClient client(ref.registry, ref.repository, options.registry);
        client.get_blob(d.digest, d.size, [&](std::string_view chunk) {
          if (fd >= 0) write_all(fd, chunk, store_error);  // every chunk: the message made once
          std::unique_lock lock(mu_);
          changed_.wait(lock, [&] { return buffered_ < kAhead || cancelled_; });
          if (cancelled_) throw Error("pull of " + d.digest + " cancelled");
          chunks_.emplace_back(chunk);
          buffered_ += chunk.size();
          lock.unlock();
          changed_.notify_all();
        });
      };
      if (options.cache)
        options.cache->store(d.digest, d.media_type, pull);
      else
        pull(-1);
    } catch (...) {
      std::lock_guard lock(mu_);
      error_ = std::current_exception();
    }
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    changed_.notify_all();
  }

  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<std::string> chunks_;
  size_t offset_ = 0;    // into chunks_.front()
  size_t buffered_ = 0;  // bytes in chunks_ not yet read
  bool done_ = false;
  bool cancelled_ = false;
  std::exception_ptr error_;
  std::thread worker_;  // last: it starts once the rest is ready
};

// A blob of the registry, pulled on first read.
class PulledContent : public BlobContent {
 public:
  PulledContent(Reference ref, oci::Descriptor d, TransportOptions options)
      : ref_(std::move(ref)), d_(std::move(d)), options_(std::move(options)) {}
  uint64_t size() const override { return d_.size; }
  std::unique_ptr<ByteReader> open() const override {
    if (options_.cache)
      if (auto cached = options_.cache->get(d_.digest, d_.media_type)) return cached->open();
    return std::make_unique<StreamingPull>(ref_, d_, options_);
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
