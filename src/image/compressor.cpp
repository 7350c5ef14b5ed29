// gzip through zlib's deflate (not libarchive's filter, whose header would
// carry a timestamp), in blocks on every core; zstd through libzstd's
// streaming API, single-threaded so the frame does not depend on thread
// timing.
#include "compressor.hpp"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "dslim/error.hpp"

namespace dslim {
namespace {

// gzip in independent 1 MiB blocks compressed on every core, pigz's way:
// each block is raw deflate primed with the previous 32 KiB as dictionary
// and ends on a sync flush, so the blocks join into one ordinary deflate
// stream. The bytes depend only on the input, the level and zlib (not on
// the thread count); the cost is ~5 bytes per block.
class GzipCompressor : public Compressor {
 public:
  GzipCompressor(int level, Output out) : level_(level), out_(std::move(out)) {}
  void write(std::string_view bytes) override { in_.append(bytes); }
  void finish() override {
    size_t blocks = std::max<size_t>(1, (in_.size() + kBlock - 1) / kBlock);
    std::vector<std::string> deflated(blocks);
    std::vector<uLong> crcs(blocks);
    std::vector<std::exception_ptr> errors(blocks);
    std::atomic<size_t> next = 0;
    auto work = [&] {
      for (size_t i; (i = next++) < blocks;) {
        try {
          deflated[i] = deflate_block(i, i + 1 == blocks);
          std::string_view part = block(i);
          crcs[i] =
              crc32(0, reinterpret_cast<const Bytef*>(part.data()), static_cast<uInt>(part.size()));
        } catch (...) {
          errors[i] = std::current_exception();
        }
      }
    };
    size_t threads = std::min<size_t>(blocks, std::max(1u, std::thread::hardware_concurrency()));
    std::vector<std::thread> pool;
    for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
    for (const auto& e : errors)
      if (e) std::rethrow_exception(e);

    // zlib's own header: no name, mtime 0, XFL from the level, OS = unix.
    const char xfl = level_ == 9 ? 2 : level_ == 1 ? 4 : 0;
    const char header[10] = {'\x1f', '\x8b', 8, 0, 0, 0, 0, 0, xfl, 3};
    out_({header, sizeof header});
    uLong crc = crc32(0, nullptr, 0);
    for (size_t i = 0; i < blocks; ++i) {
      out_(deflated[i]);
      crc = crc32_combine(crc, crcs[i], static_cast<z_off_t>(block(i).size()));
    }
    char trailer[8];
    uint32_t size = static_cast<uint32_t>(in_.size());  // ISIZE is the size mod 2^32
    for (int b = 0; b < 4; ++b) trailer[b] = static_cast<char>((crc >> (8 * b)) & 0xff);
    for (int b = 0; b < 4; ++b) trailer[4 + b] = static_cast<char>((size >> (8 * b)) & 0xff);
    out_({trailer, sizeof trailer});
  }

 private:
  static constexpr size_t kBlock = 1 << 20;
  static constexpr size_t kWindow = 1 << 15;

  std::string_view block(size_t i) const {
    return std::string_view(in_).substr(i * kBlock, kBlock);
  }

  std::string deflate_block(size_t i, bool last) const {
    z_stream z{};
    if (deflateInit2(&z, level_, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
      throw Error("cannot initialise gzip (zlib)");
    std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&z, deflateEnd);
    if (i > 0) {
      std::string_view dict = std::string_view(in_).substr(i * kBlock - kWindow, kWindow);
      deflateSetDictionary(&z, reinterpret_cast<const Bytef*>(dict.data()),
                           static_cast<uInt>(dict.size()));
    }
    std::string_view in = block(i);
    std::string out(deflateBound(&z, static_cast<uLong>(in.size())) + 64, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    size_t used = 0;
    for (;;) {
      z.next_out = reinterpret_cast<Bytef*>(out.data() + used);
      z.avail_out = static_cast<uInt>(out.size() - used);
      int rc = deflate(&z, last ? Z_FINISH : Z_SYNC_FLUSH);
      if (rc == Z_STREAM_ERROR) throw Error("gzip compression failed (zlib)");
      used = out.size() - z.avail_out;
      bool done = last ? rc == Z_STREAM_END : z.avail_in == 0 && z.avail_out > 0;
      if (done) break;
      out.resize(out.size() * 2);
    }
    out.resize(used);
    return out;
  }

  int level_;
  Output out_;
  std::string in_;
};

class ZstdCompressor : public Compressor {
 public:
  ZstdCompressor(int level, Output out)
      : cctx_(ZSTD_createCCtx()), out_(std::move(out)), buf_(ZSTD_CStreamOutSize(), '\0') {
    if (!cctx_ || ZSTD_isError(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, level)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 1)))
      throw Error("cannot initialise zstd");
  }
  ~ZstdCompressor() override { ZSTD_freeCCtx(cctx_); }
  void write(std::string_view bytes) override {
    ZSTD_inBuffer in{bytes.data(), bytes.size(), 0};
    while (in.pos < in.size) step(in, ZSTD_e_continue);
  }
  void finish() override {
    ZSTD_inBuffer in{nullptr, 0, 0};
    while (step(in, ZSTD_e_end) != 0) {
    }
  }

 private:
  size_t step(ZSTD_inBuffer& in, ZSTD_EndDirective mode) {
    ZSTD_outBuffer o{buf_.data(), buf_.size(), 0};
    size_t rc = ZSTD_compressStream2(cctx_, &o, &in, mode);
    if (ZSTD_isError(rc))
      throw Error(std::string("zstd compression failed: ") + ZSTD_getErrorName(rc));
    if (o.pos) out_(std::string_view(buf_.data(), o.pos));
    return rc;
  }
  ZSTD_CCtx* cctx_;
  Output out_;
  std::string buf_;
};

class PlainCompressor : public Compressor {
 public:
  explicit PlainCompressor(Output out) : out_(std::move(out)) {}
  void write(std::string_view bytes) override { out_(bytes); }
  void finish() override {}

 private:
  Output out_;
};

}  // namespace

std::string compression_variant(const LayerOptions& options) {
  switch (options.compression) {
    case Compression::Gzip:
      return "gzip-" + std::to_string(options.gzip_level) + "-zlib" + zlibVersion();
    case Compression::Zstd:
      return "zstd-" + std::to_string(options.zstd_level) + "-zstd" + ZSTD_versionString();
    case Compression::None:
      break;
  }
  return "none";
}

std::unique_ptr<Compressor> make_compressor(Compression compression, const LayerOptions& options,
                                            Compressor::Output out) {
  switch (compression) {
    case Compression::Gzip:
      return std::make_unique<GzipCompressor>(options.gzip_level, std::move(out));
    case Compression::Zstd:
      return std::make_unique<ZstdCompressor>(options.zstd_level, std::move(out));
    case Compression::None:
      return std::make_unique<PlainCompressor>(std::move(out));
  }
  throw Error("unknown compression");
}

}  // namespace dslim
