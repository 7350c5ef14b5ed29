// A layer's tar from an image, indexed into a layer file as LayeredRootFs
// does (whiteouts, hardlinks, paths that try to leave the root), then read
// back; and the same bytes taken as a damaged layer file or index, as the
// layer cache may hold.
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <string_view>

#include "dslim/byte_reader.hpp"
#include "dslim/error.hpp"
#include "rootfs/layer_file.hpp"

namespace {

namespace R = dslim::rootfs;

// One memfd for the whole run: a file per input would spend the run in the kernel.
int scratch() {
  static const int fd = ::memfd_create("fuzz-layer", MFD_CLOEXEC);
  if (fd < 0 || ::ftruncate(fd, 0) != 0) __builtin_trap();
  return fd;
}

void index_tar(std::string_view bytes) {
  const int fd = scratch();
  auto reader = dslim::memory_reader(bytes);
  // Small bounds keep a run inside -rss_limit_mb.
  const R::LayeredLimits limits{.max_layer_inflated = 1 << 20, .max_entries = 10000};
  std::atomic<uint64_t> entries{0};
  const R::LayerIndex written = R::write_layer_file(fd, *reader, "", "", limits, entries, "fuzz");
  const R::LayerIndex read = R::read_layer_file(fd, "fuzz");
  if (read.entries.size() != written.entries.size()) __builtin_trap();
  const R::LayerFile file(::dup(fd), "fuzz");
  for (const R::LayerEntry& e : read.entries)
    if (e.kind == R::LayerEntry::Add && !e.hardlink && e.stat.type == R::FileType::Regular)
      (void)file.view(e);
}

void read_damaged(std::string_view bytes) {
  const int fd = scratch();
  if (::pwrite(fd, bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size()))
    __builtin_trap();
  (void)R::read_layer_file(fd, "fuzz");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    index_tar(bytes);
  } catch (const dslim::Error&) {
  }
  try {
    read_damaged(bytes);
  } catch (const dslim::Error&) {
  }
  try {
    (void)R::parse_layer_index(bytes, "fuzz");
  } catch (const dslim::Error&) {
  }
  return 0;
}
