#include "tar_writer.hpp"

#include <archive.h>
#include <archive_entry.h>

#include "dslim/error.hpp"

namespace dslim {

TarWriter::TarWriter(int fd, std::string name, int64_t mtime)
    : a_(archive_write_new()), name_(std::move(name)), mtime_(mtime) {
  check(archive_write_set_format_pax_restricted(a_), "");
  check(archive_write_set_bytes_in_last_block(a_, 1), "");
  check(archive_write_open_fd(a_, fd), "");
}

TarWriter::~TarWriter() {
  archive_write_free(a_);
}

void TarWriter::check(int rc, const std::string& at) {
  if (rc == ARCHIVE_OK) return;
  const char* msg = archive_error_string(a_);
  throw Error("cannot write " + name_ + (at.empty() ? "" : " (" + at + ")") + ": " +
              (msg ? msg : "unknown error"));
}

void TarWriter::add_dir(const std::string& path) {
  archive_entry* e = archive_entry_new();
  archive_entry_copy_pathname(e, path.c_str());
  archive_entry_set_filetype(e, AE_IFDIR);
  archive_entry_set_perm(e, 0755);
  archive_entry_set_mtime(e, mtime_, 0);
  int rc = archive_write_header(a_, e);
  archive_entry_free(e);
  check(rc, path);
}

void TarWriter::add_file(const std::string& path, std::string_view bytes, uint32_t mode) {
  archive_entry* e = archive_entry_new();
  archive_entry_copy_pathname(e, path.c_str());
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, mode);
  archive_entry_set_size(e, static_cast<la_int64_t>(bytes.size()));
  archive_entry_set_mtime(e, mtime_, 0);
  int rc = archive_write_header(a_, e);
  archive_entry_free(e);
  check(rc, path);
  while (!bytes.empty()) {
    la_ssize_t n = archive_write_data(a_, bytes.data(), bytes.size());
    if (n <= 0) check(ARCHIVE_FATAL, path);
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

void TarWriter::close() {
  check(archive_write_close(a_), "close");
}

}  // namespace dslim
