#pragma once
// Blob: bytes plus the descriptor fields that name them (media type, digest,
// size). Contents sit behind BlobContent so a source can later hand out
// mmap'd or cache-backed blobs without copying them.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "dslim/oci.hpp"

namespace dslim {

class BlobContent {
 public:
  virtual ~BlobContent() = default;
  // Valid as long as the BlobContent lives.
  virtual std::string_view bytes() const = 0;
};

class Blob {
 public:
  Blob() = default;
  // Takes `bytes` and computes their digest.
  static Blob from_bytes(std::string media_type, std::string bytes);
  // Content whose digest is already known (computed while it was written).
  static Blob from_content(std::string media_type, std::string digest,
                           std::shared_ptr<const BlobContent> content);
  // Checks `bytes` against `expected_digest`; throws dslim::Error naming
  // `where` and the digest on a mismatch or a malformed digest.
  static Blob verified(std::string media_type, const std::string& expected_digest,
                       std::string bytes, const std::string& where);

  const std::string& media_type() const { return media_type_; }
  const std::string& digest() const { return digest_; }
  uint64_t size() const { return bytes().size(); }
  std::string_view bytes() const;
  // mediaType, digest and size; no annotations or platform.
  oci::Descriptor descriptor() const;

 private:
  std::string media_type_;
  std::string digest_;
  std::shared_ptr<const BlobContent> content_;
};

}  // namespace dslim
