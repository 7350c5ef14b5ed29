#include "archive_contents.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <memory>

#include "dslim/error.hpp"
#include "dslim/layer_listing.hpp"

namespace dslim {
namespace {

struct ReadDeleter {
  void operator()(struct archive* a) const { archive_read_free(a); }
};

}  // namespace

std::map<std::string, std::string> read_archive_files(const std::string& file) {
  std::unique_ptr<struct archive, ReadDeleter> a(archive_read_new());
  archive_read_support_filter_all(a.get());  // archives are sometimes gzipped as a whole
  archive_read_support_format_tar(a.get());
  auto fail = [&]() {
    const char* msg = archive_error_string(a.get());
    throw Error("cannot read " + file + ": " + (msg ? msg : "unknown error"));
  };
  if (archive_read_open_filename(a.get(), file.c_str(), 1 << 16) != ARCHIVE_OK) fail();
  std::map<std::string, std::string> out;
  uint64_t total = 0;
  archive_entry* e = nullptr;
  for (;;) {
    int rc = archive_read_next_header(a.get(), &e);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN) fail();
    if (archive_entry_filetype(e) != AE_IFREG || archive_entry_hardlink(e)) continue;
    la_int64_t size = archive_entry_size(e);
    total += static_cast<uint64_t>(size < 0 ? 0 : size);
    if (total > kMaxArchiveBytes)
      throw Error("cannot read " + file + ": more than " + std::to_string(kMaxArchiveBytes >> 30) +
                  " GiB of files");
    std::string data;
    data.reserve(static_cast<size_t>(size < 0 ? 0 : size));
    char buf[1 << 16];
    la_ssize_t n;
    while ((n = archive_read_data(a.get(), buf, sizeof buf)) > 0)
      data.append(buf, static_cast<size_t>(n));
    if (n < 0) fail();
    out[clean_tar_path(archive_entry_pathname(e)).substr(1)] = std::move(data);
  }
  return out;
}

}  // namespace dslim
