// gzip through zlib's deflate (not libarchive's filter, whose header would
// carry a timestamp), zstd through libzstd's streaming API, single-threaded so
// the frame does not depend on thread timing.
#include "compressor.hpp"

#include <zlib.h>
#include <zstd.h>

#include <string>

#include "dslim/error.hpp"

namespace dslim {
namespace {

constexpr size_t kChunk = 1 << 16;

class GzipCompressor : public Compressor {
 public:
  GzipCompressor(int level, Output out) : out_(std::move(out)), buf_(kChunk, '\0') {
    // windowBits 15 + 16 = gzip wrapper; without deflateSetHeader zlib writes
    // a fixed header: no name, mtime 0, OS = unix.
    if (deflateInit2(&z_, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
      throw Error("cannot initialise gzip (zlib)");
  }
  ~GzipCompressor() override { deflateEnd(&z_); }
  void write(std::string_view bytes) override { run(bytes, Z_NO_FLUSH); }
  void finish() override { run({}, Z_FINISH); }

 private:
  void run(std::string_view in, int flush) {
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z_.avail_in = static_cast<uInt>(in.size());
    int rc;
    do {
      z_.next_out = reinterpret_cast<Bytef*>(buf_.data());
      z_.avail_out = static_cast<uInt>(buf_.size());
      rc = deflate(&z_, flush);
      if (rc == Z_STREAM_ERROR) throw Error("gzip compression failed (zlib)");
      size_t have = buf_.size() - z_.avail_out;
      if (have) out_(std::string_view(buf_.data(), have));
    } while (z_.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
  }
  z_stream z_{};
  Output out_;
  std::string buf_;
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
