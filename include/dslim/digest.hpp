#pragma once
// Content digests as OCI spells them ("sha256:<64 lowercase hex>"), computed
// while bytes stream past so no stage has to hold a layer twice.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace dslim {

// Streaming SHA-256 (OpenSSL EVP). finish() may be called once.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, size_t size);
  void update(std::string_view bytes) { update(bytes.data(), bytes.size()); }
  std::string finish();  // "sha256:<hex>"

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "sha256:<hex>" of `bytes`.
std::string sha256_digest(std::string_view bytes);

// The lowercase hex SHA-1 of `bytes`: what SPDX requires of every file, not
// a content address.
std::string sha1_hex(std::string_view bytes);

// True for "sha256:" followed by 64 lowercase hex digits, the only form dslim
// reads or writes (it is also safe to use as a file name).
bool is_sha256_digest(std::string_view digest);

// The hex part of a digest. Throws dslim::Error naming `what` when the digest
// is not a valid sha256 digest.
std::string digest_hex(std::string_view digest, const std::string& what);

}  // namespace dslim
