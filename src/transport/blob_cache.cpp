#include "dslim/blob_cache.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <vector>

#include "dslim/digest.hpp"
#include "dslim/error.hpp"
#include "layout_files.hpp"
#include "temp_path.hpp"

namespace dslim {
namespace {

constexpr uint64_t kMaxPointer = 256;

// The whole file in one read (sized first: a stringstream would copy a
// layer several times over); nullopt when absent, unreadable or over `max`.
std::optional<std::string> slurp(const std::string& path, uint64_t max) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct stat st {};
  std::optional<std::string> out;
  if (::fstat(fd, &st) == 0 && static_cast<uint64_t>(st.st_size) <= max) {
    std::string bytes(static_cast<size_t>(st.st_size), '\0');
    size_t got = 0;
    while (got < bytes.size()) {
      ssize_t n = ::read(fd, bytes.data() + got, bytes.size() - got);
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    if (got == bytes.size()) out = std::move(bytes);
  }
  ::close(fd);
  return out;
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

std::string BlobCache::output_file(const std::string& key, const std::string& variant) const {
  return dir_ + "/outputs/" + digest_hex(key, "cached layer") + "." + variant;
}

std::optional<Blob> BlobCache::get(const std::string& digest, const std::string& media_type) const {
  std::string path = blob_file(digest);
  auto content = file_content(path);
  if (!content) return std::nullopt;
  // Checked now through a small buffer; the blob then streams from the file.
  Sha256 sha;
  auto r = content->open();
  std::vector<char> buf(1 << 18);
  while (size_t n = r->read(buf.data(), buf.size())) sha.update(buf.data(), n);
  if (sha.finish() != digest) {
    std::filesystem::remove(path);  // damaged: never trusted
    return std::nullopt;
  }
  return Blob::from_content(media_type, digest, std::move(content));
}

void BlobCache::put(const Blob& blob) {
  std::string path = blob_file(blob.digest());
  if (std::filesystem::exists(path)) return;
  ensure_dir(dir_ + "/blobs/sha256");
  write_file_atomic(path, blob.bytes());
}

Blob BlobCache::store(const std::string& digest, const std::string& media_type,
                      const std::function<void(int fd)>& fill) {
  std::string path = blob_file(digest);
  ensure_dir(dir_ + "/blobs/sha256");
  {
    TempFile f(path);
    fill(f.fd());
    f.commit();
  }
  return Blob::from_content(media_type, digest, file_content(path));
}

// An output record: "BLOB-DIGEST DIFF-ID TAR-SIZE".
std::optional<ReusedLayer> BlobCache::find(const std::string& key, const std::string& variant,
                                           const std::string& media_type) {
  auto record = slurp(output_file(key, variant), kMaxPointer);
  if (!record) return std::nullopt;
  std::istringstream in(*record);
  std::string blob, diff_id;
  uint64_t tar_size = 0;
  if (!(in >> blob >> diff_id >> tar_size) || !is_sha256_digest(blob) || !is_sha256_digest(diff_id))
    return std::nullopt;
  auto found = get(blob, media_type);
  if (!found) return std::nullopt;
  return ReusedLayer{std::move(*found), diff_id, tar_size};
}

void BlobCache::keep(const std::string& key, const std::string& variant, const ReusedLayer& layer) {
  put(layer.blob);
  ensure_dir(dir_ + "/outputs");
  write_file_atomic(output_file(key, variant), layer.blob.digest() + " " + layer.diff_id + " " +
                                                   std::to_string(layer.tar_size) + "\n");
}

}  // namespace dslim
