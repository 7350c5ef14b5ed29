// Listing a layer's tar through libarchive, as it streams; entries are read as
// records only, never written to disk.
#include "dslim/layer_listing.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <cerrno>
#include <exception>
#include <memory>

#include "dslim/error.hpp"

namespace dslim {
namespace {

struct ReadDeleter {
  void operator()(struct archive* a) const { archive_read_free(a); }
};

// Feeds libarchive from a ByteReader; an exception waits until libarchive
// has returned (it cannot cross its C frames).
struct Feed {
  explicit Feed(ByteReader& in) : in(in) {}
  ByteReader& in;
  std::string buf = std::string(1 << 16, '\0');
  std::exception_ptr error;
  static la_ssize_t read(struct archive* a, void* self, const void** out) {
    auto* f = static_cast<Feed*>(self);
    try {
      *out = f->buf.data();
      return static_cast<la_ssize_t>(f->in.read(f->buf.data(), f->buf.size()));
    } catch (...) {
      f->error = std::current_exception();
      archive_set_error(a, EIO, "read failed");
      return -1;
    }
  }
};

}  // namespace

std::string clean_tar_path(const char* raw) {
  std::string p = raw ? raw : "";
  while (p.rfind("./", 0) == 0) p.erase(0, 2);
  while (!p.empty() && p.front() == '/') p.erase(0, 1);
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  if (p == ".") p.clear();
  return "/" + p;
}

const char* to_string(LayerEntryType type) {
  switch (type) {
    case LayerEntryType::File:
      return "file";
    case LayerEntryType::Dir:
      return "dir";
    case LayerEntryType::Symlink:
      return "symlink";
    case LayerEntryType::Hardlink:
      return "hardlink";
    case LayerEntryType::Other:
      return "other";
  }
  return "other";
}

std::vector<LayerFile> list_layer_files(std::string_view bytes, const std::string& what) {
  auto r = memory_reader(bytes);
  return list_layer_files(*r, what);
}

std::vector<LayerFile> list_layer_files(ByteReader& bytes, const std::string& what) {
  Feed feed(bytes);
  std::unique_ptr<struct archive, ReadDeleter> a(archive_read_new());
  archive_read_support_filter_gzip(a.get());
  archive_read_support_filter_zstd(a.get());
  archive_read_support_format_tar(a.get());
  auto fail = [&](const std::string& at) -> void {
    if (feed.error) std::rethrow_exception(feed.error);
    const char* msg = archive_error_string(a.get());
    throw Error(what + ": corrupt layer" + at + ": " + (msg ? msg : "unknown error"));
  };
  if (archive_read_open(a.get(), &feed, nullptr, Feed::read, nullptr) != ARCHIVE_OK) fail("");

  std::vector<LayerFile> out;
  archive_entry* e = nullptr;
  for (;;) {
    int rc = archive_read_next_header(a.get(), &e);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN) fail(out.empty() ? "" : " after " + out.back().path);
    LayerFile f;
    f.path = clean_tar_path(archive_entry_pathname(e));
    f.mode = archive_entry_perm(e) & 07777;
    f.uid = static_cast<uint32_t>(archive_entry_uid(e));
    f.gid = static_cast<uint32_t>(archive_entry_gid(e));
    f.mtime = archive_entry_mtime(e);
    if (const char* hl = archive_entry_hardlink(e)) {
      f.type = LayerEntryType::Hardlink;
      f.link_target = clean_tar_path(hl);
    } else {
      switch (archive_entry_filetype(e)) {
        case AE_IFREG:
          f.type = LayerEntryType::File;
          f.size = static_cast<uint64_t>(archive_entry_size(e));
          break;
        case AE_IFDIR:
          f.type = LayerEntryType::Dir;
          break;
        case AE_IFLNK:
          f.type = LayerEntryType::Symlink;
          f.link_target = archive_entry_symlink(e) ? archive_entry_symlink(e) : "";
          break;
        default:
          f.type = LayerEntryType::Other;
      }
    }
    // Skipping the data still decompresses it, which checks the stream to its end.
    if (archive_read_data_skip(a.get()) < ARCHIVE_WARN) fail(" at " + f.path);
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace dslim
