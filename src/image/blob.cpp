// Blob construction, and the check of claimed content as it streams past.
#include "dslim/blob.hpp"

#include "dslim/digest.hpp"
#include "dslim/error.hpp"

namespace dslim {
namespace {

class StringContent : public BlobContent {
 public:
  explicit StringContent(std::string bytes) : bytes_(std::move(bytes)) {}
  uint64_t size() const override { return bytes_.size(); }
  std::unique_ptr<ByteReader> open() const override { return memory_reader(bytes_); }
  const std::string* memory() const override { return &bytes_; }

 private:
  std::string bytes_;
};

// Passes bytes through, hashing them; at the end of the stream the size and
// digest must be the claimed ones.
class CheckingReader : public ByteReader {
 public:
  CheckingReader(std::unique_ptr<ByteReader> in, uint64_t size, std::string digest,
                 std::string where)
      : in_(std::move(in)), size_(size), digest_(std::move(digest)), where_(std::move(where)) {}
  size_t read(char* buf, size_t n) override {
    size_t got = in_->read(buf, n);
    seen_ += got;
    if (seen_ > size_) fail("is longer than the " + std::to_string(size_) + " bytes it claims");
    sha_.update(buf, got);
    if (got == 0 && !done_) {
      done_ = true;
      if (seen_ != size_)
        fail("is truncated (" + std::to_string(seen_) + " of " + std::to_string(size_) + " bytes)");
      std::string actual = sha_.finish();
      if (actual != digest_) fail("is corrupt (its content hashes to " + actual + ")");
    }
    return got;
  }

 private:
  [[noreturn]] void fail(const std::string& why) {
    throw Error(where_ + ": blob " + digest_ + " " + why);
  }
  std::unique_ptr<ByteReader> in_;
  uint64_t size_;
  uint64_t seen_ = 0;
  std::string digest_;
  std::string where_;
  Sha256 sha_;
  bool done_ = false;
};

}  // namespace

// Not std::call_once: a throw out of it (a corrupt blob) aborts with a
// static libstdc++, as pthread_once cannot be unwound through.
struct Blob::Loaded {
  std::mutex mutex;
  bool done = false;
  std::string bytes;
};

std::shared_ptr<const BlobContent> memory_content(std::string bytes) {
  return std::make_shared<StringContent>(std::move(bytes));
}

Blob Blob::from_bytes(std::string media_type, std::string bytes) {
  std::string digest = sha256_digest(bytes);
  return from_content(std::move(media_type), std::move(digest), memory_content(std::move(bytes)));
}

Blob Blob::from_content(std::string media_type, std::string digest,
                        std::shared_ptr<const BlobContent> content) {
  Blob b;
  b.media_type_ = std::move(media_type);
  b.digest_ = std::move(digest);
  b.content_ = std::move(content);
  b.loaded_ = std::make_shared<Loaded>();
  return b;
}

Blob Blob::verified(std::string media_type, const std::string& expected_digest, std::string bytes,
                    const std::string& where) {
  digest_hex(expected_digest, where);
  Blob b = from_bytes(std::move(media_type), std::move(bytes));
  if (b.digest() != expected_digest)
    throw Error(where + ": blob " + expected_digest + " is corrupt (its content hashes to " +
                b.digest() + ")");
  return b;
}

Blob Blob::claimed(std::string media_type, const std::string& digest,
                   std::shared_ptr<const BlobContent> content, const std::string& where) {
  digest_hex(digest, where);
  Blob b = from_content(std::move(media_type), digest, std::move(content));
  b.where_ = where;
  return b;
}

std::unique_ptr<ByteReader> Blob::open() const {
  if (!content_) return memory_reader({});
  auto r = content_->open();
  if (where_.empty()) return r;
  return std::make_unique<CheckingReader>(std::move(r), content_->size(), digest_, where_);
}

std::string_view Blob::bytes() const {
  if (!content_) return {};
  if (where_.empty() && content_->memory()) return *content_->memory();
  std::lock_guard lock(loaded_->mutex);
  if (!loaded_->done) {
    auto r = open();
    loaded_->bytes = read_all(*r, size(), where_);
    loaded_->done = true;
  }
  return loaded_->bytes;
}

oci::Descriptor Blob::descriptor() const {
  oci::Descriptor d;
  d.media_type = media_type_;
  d.digest = digest_;
  d.size = size();
  return d;
}

}  // namespace dslim
