#pragma once
// Blob: bytes plus the descriptor fields that name them (media type, digest,
// size). Contents sit behind BlobContent: in memory (what dslim builds,
// manifests, configs) or streamed from a file range (a source image's
// layers), so a layer of hundreds of MB is never held in memory.
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "dslim/byte_reader.hpp"
#include "dslim/oci.hpp"

namespace dslim {

class BlobContent {
 public:
  virtual ~BlobContent() = default;
  virtual uint64_t size() const = 0;
  // A fresh reader from the first byte.
  virtual std::unique_ptr<ByteReader> open() const = 0;
  // The bytes when they are in memory; nullptr when they are streamed.
  virtual const std::string* memory() const { return nullptr; }
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
  // Content claimed to have `digest`, checked while it is read: the reader
  // open() hands out throws at the end of a stream whose size or digest
  // differ, naming `where`.
  static Blob claimed(std::string media_type, const std::string& digest,
                      std::shared_ptr<const BlobContent> content, const std::string& where);

  const std::string& media_type() const { return media_type_; }
  const std::string& digest() const { return digest_; }
  uint64_t size() const { return content_ ? content_->size() : 0; }
  // Every byte, verified: in place for in-memory content, read once and
  // kept otherwise (small blobs; stream large ones with open()).
  std::string_view bytes() const;
  std::unique_ptr<ByteReader> open() const;
  // mediaType, digest and size; no annotations or platform.
  oci::Descriptor descriptor() const;

 private:
  struct Loaded;  // bytes() of streamed content, read once
  std::string media_type_;
  std::string digest_;
  std::string where_;  // non-empty: checked on read
  std::shared_ptr<const BlobContent> content_;
  std::shared_ptr<Loaded> loaded_;
};

// In-memory content.
std::shared_ptr<const BlobContent> memory_content(std::string bytes);

}  // namespace dslim
