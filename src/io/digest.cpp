// Streaming SHA-256 through OpenSSL EVP, and digest string checks.
#include "dslim/digest.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "dslim/error.hpp"

namespace dslim {

struct Sha256::Impl {
  EVP_MD_CTX* ctx = nullptr;
};

namespace {

// Fetched once: EVP_sha256() makes every init look the algorithm up again,
// and OpenSSL's first use would read the system's openssl.cnf (engines,
// providers) that hashing has no use for; both cost a warm run milliseconds.
const EVP_MD* sha256_md() {
  static const EVP_MD* md = [] {
    OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, nullptr);
    return EVP_MD_fetch(nullptr, "SHA256", nullptr);
  }();
  return md;
}

}  // namespace

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  impl_->ctx = EVP_MD_CTX_new();
  if (!impl_->ctx || !sha256_md() || EVP_DigestInit_ex(impl_->ctx, sha256_md(), nullptr) != 1)
    throw Error("cannot initialise SHA-256 (OpenSSL)");
}

Sha256::~Sha256() {
  EVP_MD_CTX_free(impl_->ctx);
}

void Sha256::update(const void* data, size_t size) {
  if (size && EVP_DigestUpdate(impl_->ctx, data, size) != 1) throw Error("SHA-256 update failed");
}

std::string Sha256::finish() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(impl_->ctx, md, &len) != 1) throw Error("SHA-256 final failed");
  static const char* hex = "0123456789abcdef";
  std::string out = "sha256:";
  for (unsigned int i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

std::string sha256_digest(std::string_view bytes) {
  Sha256 h;
  h.update(bytes);
  return h.finish();
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
