// Inflating one layer blob into an mmap'd temporary file. gzip goes through
// ISA-L's igzip (about twice zlib's speed, DESIGN.md §7); the file is unlinked
// from the start, so nothing is left behind whatever happens.
#include "layer_tar.hpp"

#include <fcntl.h>
#include <isa-l/igzip_lib.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "dslim/error.hpp"

namespace dslim::rootfs {
namespace {

constexpr size_t kChunk = 1 << 20;

// An unlinked temporary file the inflated bytes are appended to.
class TarWriter {
 public:
  TarWriter(uint64_t max_size, const std::string& where) : max_(max_size), where_(where) {
    const char* env = std::getenv("TMPDIR");
    std::string dir = env && *env ? env : "/tmp";
    fd_ = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd_ < 0) {  // a file system without O_TMPFILE
      std::string tmpl = dir + "/dslim-layer-XXXXXX";
      fd_ = mkostemp(tmpl.data(), O_CLOEXEC);
      if (fd_ >= 0) ::unlink(tmpl.c_str());
    }
    if (fd_ < 0)
      throw Error(where_ + ": cannot create a temporary file in " + dir + ": " +
                  std::strerror(errno));
  }
  ~TarWriter() {
    if (fd_ >= 0) ::close(fd_);
  }
  TarWriter(const TarWriter&) = delete;
  TarWriter& operator=(const TarWriter&) = delete;

  void write(const void* data, size_t n) {
    if (n > max_ - size_)
      throw Error(where_ + ": inflates to more than " + std::to_string(max_) +
                  " bytes, the bound for one layer");
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
      ssize_t w = ::write(fd_, p, n);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0)
        throw Error(where_ + ": cannot write the inflated layer to a temporary file: " +
                    std::strerror(errno));
      p += w;
      n -= static_cast<size_t>(w);
      size_ += static_cast<uint64_t>(w);
    }
  }

  std::shared_ptr<const LayeredRootFs::LayerTar> finish() {
    auto tar = std::make_shared<LayeredRootFs::LayerTar>();
    tar->size = size_;
    if (size_ > 0) {
      // Populated now: the tar is read through right away to index it.
      void* base = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd_, 0);
      if (base == MAP_FAILED)
        throw Error(where_ + ": cannot map the inflated layer: " + std::strerror(errno));
      tar->base = base;
    }
    return tar;  // the mapping keeps the file alive once fd_ is closed
  }

 private:
  int fd_ = -1;
  uint64_t max_;
  uint64_t size_ = 0;
  std::string where_;
};

const char* isal_error(int rc) {
  switch (rc) {
    case ISAL_INVALID_BLOCK:
      return "invalid deflate block";
    case ISAL_INVALID_SYMBOL:
      return "invalid deflate symbol";
    case ISAL_INVALID_LOOKBACK:
      return "invalid lookback distance";
    case ISAL_INVALID_WRAPPER:
      return "invalid gzip header";
    case ISAL_UNSUPPORTED_METHOD:
      return "unsupported gzip compression method";
    case ISAL_INCORRECT_CHECKSUM:
      return "gzip checksum mismatch";
    default:
      return "inflate error";
  }
}

void inflate_gzip(std::string_view blob, TarWriter& out, const std::string& where) {
  auto state = std::make_unique<inflate_state>();  // ~40 KB: not on the stack
  std::vector<uint8_t> buf(kChunk);
  const auto* in = reinterpret_cast<const uint8_t*>(blob.data());
  uint64_t left = blob.size();
  // A gzip file may hold several members back to back; each is inflated in turn.
  while (left > 0) {
    // Trailing zeros after the last member are padding (gzip(1) ignores them too).
    if (std::all_of(in, in + left, [](uint8_t b) { return b == 0; })) break;
    isal_inflate_init(state.get());
    state->crc_flag = ISAL_GZIP;
    bool finished = false;
    while (!finished) {
      // avail_in is 32-bit: feed at most 1 GiB at a time.
      if (state->avail_in == 0 && left > 0) {
        uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(left, 1u << 30));
        state->next_in = const_cast<uint8_t*>(in);
        state->avail_in = n;
        in += n;
        left -= n;
      }
      state->next_out = buf.data();
      state->avail_out = static_cast<uint32_t>(buf.size());
      int rc = isal_inflate(state.get());
      if (rc < 0) throw Error(where + ": corrupt gzip stream: " + isal_error(rc));
      size_t produced = buf.size() - state->avail_out;
      out.write(buf.data(), produced);
      finished = state->block_state == ISAL_BLOCK_FINISH;
      if (!finished && state->avail_in == 0 && left == 0 && produced < buf.size())
        throw Error(where + ": truncated gzip stream");
    }
    // Unused input goes back to `left` for the next member.
    in -= state->avail_in;
    left += state->avail_in;
  }
}

void inflate_zstd(std::string_view blob, TarWriter& out, const std::string& where) {
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> ctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (!ctx) throw Error(where + ": out of memory for zstd");
  std::vector<char> buf(kChunk);
  ZSTD_inBuffer in{blob.data(), blob.size(), 0};
  size_t hint = 0;
  for (;;) {
    ZSTD_outBuffer o{buf.data(), buf.size(), 0};
    hint = ZSTD_decompressStream(ctx.get(), &o, &in);
    if (ZSTD_isError(hint))
      throw Error(where + ": corrupt zstd stream: " + ZSTD_getErrorName(hint));
    out.write(buf.data(), o.pos);
    if (in.pos == in.size && o.pos < o.size) break;
  }
  if (hint != 0) throw Error(where + ": truncated zstd stream");
}

}  // namespace

LayeredRootFs::LayerTar::~LayerTar() {
  if (base) ::munmap(base, size);
}

std::shared_ptr<const LayeredRootFs::LayerTar> inflate_layer(std::string_view blob,
                                                             uint64_t max_size,
                                                             const std::string& where) {
  TarWriter out(max_size, where);
  auto starts = [&](std::string_view magic) { return blob.substr(0, magic.size()) == magic; };
  if (starts("\x1f\x8b")) {
    inflate_gzip(blob, out, where);
  } else if (starts("\x28\xb5\x2f\xfd")) {
    inflate_zstd(blob, out, where);
  } else {
    // A plain tar is copied too, so every layer's views share one lifetime
    // rule whatever holds the blob.
    for (size_t at = 0; at < blob.size(); at += kChunk)
      out.write(blob.data() + at, std::min(kChunk, blob.size() - at));
  }
  return out.finish();
}

}  // namespace dslim::rootfs
