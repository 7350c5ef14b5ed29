#include "mapped_file.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "dslim/error.hpp"

namespace dslim::rootfs {
namespace {

class MappedView : public FileView {
 public:
  MappedView(void* base, size_t len, size_t skip) : base_(base), len_(len), skip_(skip) {}
  ~MappedView() override {
    if (base_) ::munmap(base_, len_);
  }
  std::span<const std::byte> bytes() const override {
    if (!base_) return {};
    return {static_cast<const std::byte*>(base_) + skip_, len_ - skip_};
  }

 private:
  void* base_;
  size_t len_;
  size_t skip_;
};

}  // namespace

std::unique_ptr<FileView> map_file_range(int fd, uint64_t offset, uint64_t len, bool populate,
                                         const std::string& what) {
  if (len == 0) return std::make_unique<MappedView>(nullptr, 0, 0);
  static const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  uint64_t start = offset & ~(page - 1);
  size_t map_len = static_cast<size_t>(offset - start + len);
  void* base = ::mmap(nullptr, map_len, PROT_READ, MAP_PRIVATE | (populate ? MAP_POPULATE : 0), fd,
                      static_cast<off_t>(start));
  if (base == MAP_FAILED) throw Error(what + ": cannot map it: " + std::strerror(errno));
  return std::make_unique<MappedView>(base, map_len, static_cast<size_t>(offset - start));
}

}  // namespace dslim::rootfs
