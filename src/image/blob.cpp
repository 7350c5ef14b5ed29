// Blob construction; in-memory content is the only kind so far.
#include "dslim/blob.hpp"

#include "dslim/digest.hpp"
#include "dslim/error.hpp"

namespace dslim {
namespace {

class StringContent : public BlobContent {
 public:
  explicit StringContent(std::string bytes) : bytes_(std::move(bytes)) {}
  std::string_view bytes() const override { return bytes_; }

 private:
  std::string bytes_;
};

}  // namespace

Blob Blob::from_bytes(std::string media_type, std::string bytes) {
  std::string digest = sha256_digest(bytes);
  return from_content(std::move(media_type), std::move(digest),
                      std::make_shared<StringContent>(std::move(bytes)));
}

Blob Blob::from_content(std::string media_type, std::string digest,
                        std::shared_ptr<const BlobContent> content) {
  Blob b;
  b.media_type_ = std::move(media_type);
  b.digest_ = std::move(digest);
  b.content_ = std::move(content);
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

std::string_view Blob::bytes() const {
  return content_ ? content_->bytes() : std::string_view();
}

oci::Descriptor Blob::descriptor() const {
  oci::Descriptor d;
  d.media_type = media_type_;
  d.digest = digest_;
  d.size = size();
  return d;
}

}  // namespace dslim
