// Streaming SHA-256 through OpenSSL's SHA256_* functions, and digest string
// checks. Not EVP: statically linked, EVP's fetch pulls in the provider,
// ASN.1 and error tables, ~300 KB of relocated data that every start pays
// for in page faults, where SHA256_* is the same assembly (SHA-NI) alone.
#define OPENSSL_SUPPRESS_DEPRECATED  // SHA256_* are deprecated, not going away in 3.x
#include "dslim/digest.hpp"

#include <openssl/sha.h>

#include "dslim/error.hpp"

namespace dslim {

struct Sha256::Impl {
  SHA256_CTX ctx;
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  if (SHA256_Init(&impl_->ctx) != 1) throw Error("cannot initialise SHA-256 (OpenSSL)");
}

Sha256::~Sha256() = default;

void Sha256::update(const void* data, size_t size) {
  if (size && SHA256_Update(&impl_->ctx, data, size) != 1) throw Error("SHA-256 update failed");
}

std::string Sha256::finish() {
  unsigned char md[SHA256_DIGEST_LENGTH];
  if (SHA256_Final(md, &impl_->ctx) != 1) throw Error("SHA-256 final failed");
  static const char* hex = "0123456789abcdef";
  std::string out = "sha256:";
  for (unsigned char byte : md) {
    out += hex[byte >> 4];
    out += hex[byte & 15];
  }
  return out;
}

std::string sha256_digest(std::string_view bytes) {
  Sha256 h;
  h.update(bytes);
  return h.finish();
}

std::string sha1_hex(std::string_view bytes) {
  unsigned char md[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), md);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : md) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

bool is_sha256_digest(std::string_view digest) {
  constexpr std::string_view prefix = "sha256:";
  if (digest.size() != prefix.size() + 64 || digest.substr(0, prefix.size()) != prefix)
    return false;
  for (char c : digest.substr(prefix.size()))
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::string digest_hex(std::string_view digest, const std::string& what) {
  if (!is_sha256_digest(digest))
    throw Error(what + ": unsupported or malformed digest '" + std::string(digest) + "'");
  return std::string(digest.substr(7));
}

}  // namespace dslim
