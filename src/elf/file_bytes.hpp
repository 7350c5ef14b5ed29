#pragma once
// A regular file on this machine, read whole or piecewise, with one-line
// errors naming it.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace dslim::elf::detail {

class HostFile {
 public:
  // Throws dslim::Error for a missing, unreadable or non-regular path (a
  // directory, a device, a FIFO).
  explicit HostFile(const std::string& path);
  ~HostFile();
  HostFile(const HostFile&) = delete;
  HostFile& operator=(const HostFile&) = delete;

  uint64_t size() const { return size_; }
  // Fills `out` from `offset`; throws when the file ends first.
  void read(uint64_t offset, std::span<std::byte> out) const;
  // The whole file, as LIEF's parser wants it (what is there if it shrank).
  std::vector<uint8_t> read_all() const;

 private:
  // Bytes read at `offset`, up to out.size(); fewer only at the end.
  size_t read_some(uint64_t offset, std::span<std::byte> out) const;
  std::string path_;
  int fd_;
  uint64_t size_ = 0;
};

}  // namespace dslim::elf::detail
