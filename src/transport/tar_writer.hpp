#pragma once
// A small deterministic tar writer for the archives sinks produce around
// blobs (oci-archive, docker-archive): pax-restricted like layers, fixed
// mtime, owner 0:0, no user names. Entries are written in the order given.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

struct archive;

namespace dslim {

class TarWriter {
 public:
  // Writes to `fd` (not closed); `name` is used in error messages.
  TarWriter(int fd, std::string name, int64_t mtime);
  ~TarWriter();
  void add_dir(const std::string& path);
  void add_file(const std::string& path, std::string_view bytes, uint32_t mode = 0644);
  void close();

 private:
  void check(int rc, const std::string& at);
  struct archive* a_;
  std::string name_;
  int64_t mtime_;
};

}  // namespace dslim
