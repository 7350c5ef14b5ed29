#include "dslim/blob_cache.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "dslim/digest.hpp"
#include "dslim/error.hpp"
#include "temp_path.hpp"

namespace dslim {
namespace {

constexpr uint64_t kMaxPointer = 256;

std::optional<std::string> slurp(const std::string& path, uint64_t max) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  if (s.size() > max) return std::nullopt;
  return s;
}

void ensure_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error("cannot create the cache directory " + dir + ": " + ec.message());
}

}  // namespace

BlobCache::BlobCache(std::string dir) : dir_(std::move(dir)) {}

std::string BlobCache::blob_file(const std::string& digest) const {
  return dir_ + "/blobs/sha256/" + digest_hex(digest, "cached blob");
}

std::string BlobCache::output_file(const std::string& diff_id, const std::string& variant) const {
  return dir_ + "/outputs/" + digest_hex(diff_id, "cached layer") + "." + variant;
}

std::optional<Blob> BlobCache::get(const std::string& digest, const std::string& media_type) const {
  std::string path = blob_file(digest);
  auto bytes = slurp(path, uint64_t{1} << 32);
  if (!bytes) return std::nullopt;
  Blob blob = Blob::from_bytes(media_type, std::move(*bytes));
  if (blob.digest() != digest) {
    std::filesystem::remove(path);  // damaged: never trusted
    return std::nullopt;
  }
  return blob;
}

void BlobCache::put(const Blob& blob) {
  std::string path = blob_file(blob.digest());
  if (std::filesystem::exists(path)) return;
  ensure_dir(dir_ + "/blobs/sha256");
  write_file_atomic(path, blob.bytes());
}

std::optional<Blob> BlobCache::find(const std::string& diff_id, const std::string& variant,
                                    const std::string& media_type) {
  auto pointer = slurp(output_file(diff_id, variant), kMaxPointer);
  if (!pointer || !is_sha256_digest(*pointer)) return std::nullopt;
  return get(*pointer, media_type);
}

void BlobCache::keep(const std::string& diff_id, const std::string& variant, const Blob& blob) {
  put(blob);
  ensure_dir(dir_ + "/outputs");
  write_file_atomic(output_file(diff_id, variant), blob.digest());
}

}  // namespace dslim
