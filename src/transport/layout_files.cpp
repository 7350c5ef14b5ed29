#include "layout_files.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "dslim/error.hpp"
#include "dslim/layer_listing.hpp"
#include "dslim/scratch_file.hpp"
#include "temp_path.hpp"

namespace dslim {
namespace {

struct OpenFile {
  OpenFile(int fd, std::string path) : fd(fd), path(std::move(path)) {}
  ~OpenFile() { ::close(fd); }
  OpenFile(const OpenFile&) = delete;
  OpenFile& operator=(const OpenFile&) = delete;
  int fd;
  std::string path;
};

class RangeReader : public ByteReader {
 public:
  RangeReader(std::shared_ptr<const OpenFile> file, uint64_t at, uint64_t size)
      : file_(std::move(file)), at_(at), left_(size) {}
  size_t read(char* buf, size_t n) override {
    n = static_cast<size_t>(std::min<uint64_t>(n, left_));
    if (n == 0) return 0;
    ssize_t got;
    do got = ::pread(file_->fd, buf, n, static_cast<off_t>(at_));
    while (got < 0 && errno == EINTR);
    if (got < 0) throw_errno("cannot read", file_->path);
    if (got == 0) throw Error("cannot read " + file_->path + ": it was cut short while read");
    at_ += static_cast<uint64_t>(got);
    left_ -= static_cast<uint64_t>(got);
    return static_cast<size_t>(got);
  }

 private:
  std::shared_ptr<const OpenFile> file_;
  uint64_t at_;
  uint64_t left_;
};

class RangeContent : public BlobContent {
 public:
  RangeContent(std::shared_ptr<const OpenFile> file, uint64_t at, uint64_t size)
      : file_(std::move(file)), at_(at), size_(size) {}
  uint64_t size() const override { return size_; }
  std::unique_ptr<ByteReader> open() const override {
    return std::make_unique<RangeReader>(file_, at_, size_);
  }

 private:
  std::shared_ptr<const OpenFile> file_;
  uint64_t at_;
  uint64_t size_;
};

class DirectoryFiles : public LayoutFiles {
 public:
  explicit DirectoryFiles(std::string dir) : dir_(std::move(dir)) {}
  std::shared_ptr<const BlobContent> file(const std::string& path) const override {
    return file_content(dir_ + "/" + path);
  }

 private:
  std::string dir_;
};

class ArchiveFiles : public LayoutFiles {
 public:
  std::shared_ptr<const BlobContent> file(const std::string& path) const override {
    auto it = members_.find(path);
    if (it == members_.end()) return nullptr;
    return std::make_shared<RangeContent>(file_, it->second.first, it->second.second);
  }

  std::shared_ptr<const OpenFile> file_;
  std::map<std::string, std::pair<uint64_t, uint64_t>> members_;  // path -> offset, size
};

struct ReadDeleter {
  void operator()(struct archive* a) const { archive_read_free(a); }
};

}  // namespace

std::shared_ptr<const BlobContent> file_content(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return nullptr;
    throw_errno("cannot open", path);
  }
  auto file = std::make_shared<const OpenFile>(fd, path);
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw_errno("cannot stat", path);
  if (!S_ISREG(st.st_mode)) return nullptr;
  return std::make_shared<RangeContent>(file, 0, static_cast<uint64_t>(st.st_size));
}

std::shared_ptr<const BlobContent> scratch_content(const std::function<void(int fd)>& fill,
                                                   const std::string& what) {
  auto file = std::make_shared<const OpenFile>(scratch_file(what), what);
  fill(file->fd);
  struct stat st {};
  if (::fstat(file->fd, &st) != 0) throw_errno("cannot stat a temporary copy of", what);
  return std::make_shared<RangeContent>(file, 0, static_cast<uint64_t>(st.st_size));
}

std::optional<std::string> LayoutFiles::read(const std::string& path,
                                             const std::string& what) const {
  auto content = file(path);
  if (!content) return std::nullopt;
  if (content->size() > kMaxJsonBlob)
    throw Error(what + ": " + path + " is " + std::to_string(content->size()) +
                " bytes, more than the " + std::to_string(kMaxJsonBlob) + " allowed");
  auto r = content->open();
  return read_all(*r, kMaxJsonBlob, what + ": " + path);
}

std::unique_ptr<LayoutFiles> directory_files(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw Error("no such directory " + dir);
  return std::make_unique<DirectoryFiles>(dir);
}

std::unique_ptr<LayoutFiles> archive_files(const std::string& file) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_errno("cannot open", file);
  auto out = std::make_unique<ArchiveFiles>();
  out->file_ = std::make_shared<const OpenFile>(fd, file);

  std::unique_ptr<struct archive, ReadDeleter> a(archive_read_new());
  archive_read_support_filter_all(a.get());  // archives are sometimes gzipped as a whole
  archive_read_support_format_tar(a.get());
  auto fail = [&]() {
    const char* msg = archive_error_string(a.get());
    throw Error("cannot read " + file + ": " + (msg ? msg : "unknown error"));
  };
  if (archive_read_open_filename(a.get(), file.c_str(), 1 << 16) != ARCHIVE_OK) fail();
  std::shared_ptr<const OpenFile> scratch;  // members of a compressed archive
  uint64_t scratch_size = 0;
  archive_entry* e = nullptr;
  for (;;) {
    int rc = archive_read_next_header(a.get(), &e);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN) fail();
    if (archive_entry_filetype(e) != AE_IFREG || archive_entry_hardlink(e)) continue;
    la_int64_t size = archive_entry_size(e);
    if (size < 0) fail();
    std::string path = clean_tar_path(archive_entry_pathname(e)).substr(1);
    if (archive_filter_code(a.get(), 0) == ARCHIVE_FILTER_NONE) {
      // The reader has consumed exactly the headers: its position is where
      // the member's bytes start in the file.
      out->members_[path] = {static_cast<uint64_t>(archive_filter_bytes(a.get(), 0)),
                             static_cast<uint64_t>(size)};
      continue;
    }
    if (!scratch) scratch = std::make_shared<const OpenFile>(scratch_file(file), file);
    uint64_t at = scratch_size;
    char buf[1 << 16];
    la_ssize_t n;
    while ((n = archive_read_data(a.get(), buf, sizeof buf)) > 0) {
      if (::pwrite(scratch->fd, buf, static_cast<size_t>(n), static_cast<off_t>(scratch_size)) != n)
        throw_errno("cannot write a temporary copy of", file);
      scratch_size += static_cast<uint64_t>(n);
    }
    if (n < 0) fail();
    out->members_[path] = {at, scratch_size - at};
  }
  if (scratch) out->file_ = scratch;
  return out;
}

}  // namespace dslim
