// dir:DIR: the image's layers unpacked, for looking at what an image holds.
// DIR must not exist or be an empty directory: a populated directory may be
// anything of the user's, and dslim does not delete what it did not write.
// The tree is built under DIR.tmp-XXXX (in DIR's real parent directory, so no
// symlink lies on the prefix) and renamed into place.
//
// Confinement: entry paths are cleaned and ".." refused; libarchive refuses
// to write through a symlink (SECURE_SYMLINKS) or to follow ".."; whiteouts
// are applied only after checking that no component on the way is a symlink;
// devices and fifos are skipped.
#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

#include "dslim/error.hpp"
#include "sinks.hpp"
#include "temp_path.hpp"

namespace dslim {
namespace {

namespace fs = std::filesystem;

struct ReadDeleter {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
struct WriteDeleter {
  void operator()(struct archive* a) const { archive_write_free(a); }
};

// "./a//b/" -> "a/b"; "" for the root; throws on "..".
std::string relative_entry_path(const char* raw, const std::string& layer) {
  std::string in = raw ? raw : "";
  std::string out;
  size_t i = 0;
  while (i <= in.size()) {
    size_t j = in.find('/', i);
    if (j == std::string::npos) j = in.size();
    std::string comp = in.substr(i, j - i);
    i = j + 1;
    if (comp.empty() || comp == ".") continue;
    if (comp == "..") throw Error("layer " + layer + ": entry '" + in + "' leaves the root");
    if (!out.empty()) out += '/';
    out += comp;
  }
  return out;
}

// Throws when any component of `rel` below `root` is a symlink.
void check_no_symlink(const fs::path& root, const std::string& rel, const std::string& layer) {
  fs::path p = root;
  for (const auto& comp : fs::path(rel)) {
    p /= comp;
    std::error_code ec;
    if (fs::is_symlink(fs::symlink_status(p, ec)))
      throw Error("layer " + layer + ": whiteout path /" + rel + " goes through a symlink");
  }
}

void apply_whiteout(const fs::path& root, const std::string& rel, const std::string& layer) {
  fs::path r(rel);
  std::string base = r.filename().string();
  std::string parent = r.parent_path().string();
  check_no_symlink(root, parent, layer);
  std::error_code ec;
  if (base == ".wh..wh..opq") {
    fs::path dir = root / parent;
    if (!fs::is_directory(fs::symlink_status(dir, ec))) return;
    for (const auto& child : fs::directory_iterator(dir, ec)) fs::remove_all(child.path(), ec);
  } else {
    fs::remove_all(root / parent / base.substr(4), ec);  // ".wh.NAME" deletes NAME
  }
}

void unpack_layer(const Blob& layer, const fs::path& root, struct archive* disk) {
  const std::string& name = layer.digest();
  std::unique_ptr<struct archive, ReadDeleter> a(archive_read_new());
  archive_read_support_filter_gzip(a.get());
  archive_read_support_filter_zstd(a.get());
  archive_read_support_format_tar(a.get());
  auto fail = [&](struct archive* which, const std::string& at) {
    const char* msg = archive_error_string(which);
    throw Error("cannot unpack layer " + name + (at.empty() ? "" : " at /" + at) + ": " +
                (msg ? msg : "unknown error"));
  };
  auto bytes = layer.bytes();
  if (archive_read_open_memory(a.get(), bytes.data(), bytes.size()) != ARCHIVE_OK)
    fail(a.get(), "");
  archive_entry* e = nullptr;
  for (;;) {
    int rc = archive_read_next_header(a.get(), &e);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN) fail(a.get(), "");
    std::string rel = relative_entry_path(archive_entry_pathname(e), name);
    if (rel.empty()) continue;
    if (fs::path(rel).filename().string().rfind(".wh.", 0) == 0) {
      apply_whiteout(root, rel, name);
      continue;
    }
    auto type = archive_entry_filetype(e);
    const char* hardlink = archive_entry_hardlink(e);
    if (!hardlink && type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK) continue;
    archive_entry_copy_pathname(e, (root / rel).c_str());
    if (hardlink) {
      std::string target = relative_entry_path(hardlink, name);
      archive_entry_copy_hardlink(e, (root / target).c_str());
    }
    if (archive_write_header(disk, e) < ARCHIVE_WARN) fail(disk, rel);
    const void* buf;
    size_t size;
    la_int64_t offset;
    while ((rc = archive_read_data_block(a.get(), &buf, &size, &offset)) == ARCHIVE_OK)
      if (archive_write_data_block(disk, buf, size, offset) < ARCHIVE_WARN) fail(disk, rel);
    if (rc != ARCHIVE_EOF) fail(a.get(), rel);
    if (archive_write_finish_entry(disk) < ARCHIVE_WARN) fail(disk, rel);
  }
}

}  // namespace

void write_rootfs_dir(const Image& image, const Reference& ref) {
  fs::path dir = prepare_destination(ref.path);
  std::error_code ec;
  if (fs::exists(fs::symlink_status(dir, ec))) {
    if (!fs::is_directory(fs::symlink_status(dir, ec)) || !fs::is_empty(dir, ec))
      throw Error(dir.string() +
                  " exists and is not an empty directory; remove it or pick another");
  }
  TempDir tmp(dir.string());
  fs::path root = tmp.path();

  std::unique_ptr<struct archive, WriteDeleter> disk(archive_write_disk_new());
  int flags = ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_UNLINK |
              ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT;
  if (::geteuid() == 0) flags |= ARCHIVE_EXTRACT_OWNER;  // only root can give files away
  archive_write_disk_set_options(disk.get(), flags);
  for (const auto& layer : image.layers) unpack_layer(layer, root, disk.get());
  // Directory permissions and times are applied at close (after their contents).
  if (archive_write_close(disk.get()) < ARCHIVE_WARN) {
    const char* msg = archive_error_string(disk.get());
    throw Error("cannot finish " + root.string() + ": " + (msg ? msg : "unknown error"));
  }
  tmp.commit();
}

}  // namespace dslim
