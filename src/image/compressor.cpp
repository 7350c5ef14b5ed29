// gzip through libdeflate (3.5x zlib's speed at level 6, and smaller
// output), in blocks on every core; zstd through libzstd's streaming API,
// single-threaded so the frame does not depend on thread timing.
#include "compressor.hpp"

#include <libdeflate.h>
#include <sys/mman.h>
#include <zstd.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "dslim/error.hpp"

namespace dslim {
namespace {

// Fresh anonymous memory made present in one call: on this class of machine
// every first touch of a page is a fault costing ~20 us, and a block's
// buffers would otherwise take 500 of them.
class PopulatedBuffer {
 public:
  explicit PopulatedBuffer(size_t size) : size_(size) {
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (p == MAP_FAILED) throw Error("out of memory for gzip buffers");
    data_ = static_cast<char*>(p);
  }
  ~PopulatedBuffer() { ::munmap(data_, size_); }
  PopulatedBuffer(const PopulatedBuffer&) = delete;
  PopulatedBuffer& operator=(const PopulatedBuffer&) = delete;
  char* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  char* data_;
  size_t size_;
};

// gzip as one member per 1 MiB block, compressed on every core while the
// tar is still being written: RFC 1952 readers (gzip -d, Go's
// compress/gzip, pigz, ISA-L, zlib's gzread) take the members as one stream.
// libdeflate compresses whole buffers only and has no preset dictionary, so
// blocks cannot share a deflate stream the way pigz's do; the cost is 18
// bytes of header and trailer per MiB and the matches a block cannot reach
// back for (~0.3% on binaries). The bytes depend only on the input, the
// level and libdeflate's version, not on the thread count: libdeflate writes
// mtime 0, no name, and XFL from the level. A few slots are reused in turn,
// so memory stays a few MiB whatever the layer's size.
class GzipCompressor : public Compressor {
 public:
  GzipCompressor(int level, Output out)
      : level_(level),
        out_(std::move(out)),
        workers_(std::max(1u, std::thread::hardware_concurrency())),
        slots_(workers_ + 1) {}
  ~GzipCompressor() override {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    work_.notify_all();
    for (auto& t : pool_) t.join();
  }
  void write(std::string_view bytes) override {
    while (!bytes.empty()) {
      Slot& s = slot(filled_);
      if (!s.in) s.in = std::make_unique<PopulatedBuffer>(kBlock);
      size_t n = std::min(bytes.size(), kBlock - s.used);
      std::memcpy(s.in->data() + s.used, bytes.data(), n);
      s.used += n;
      bytes.remove_prefix(n);
      if (s.used == kBlock) submit();
    }
  }
  void finish() override {
    if (filled_ == emitted_ && pool_.empty()) {
      // One block (or none): no thread is worth starting.
      Slot& s = slot(filled_);
      compress(s, deflater().get());
      if (s.error) std::rethrow_exception(s.error);
      out_(std::string_view(s.out->data(), s.out_size));
      return;
    }
    if (slot(filled_).used > 0) submit();
    while (emitted_ < filled_) emit_oldest();
  }

 private:
  static constexpr size_t kBlock = 1 << 20;

  struct Slot {
    std::unique_ptr<PopulatedBuffer> in, out;
    size_t used = 0;
    size_t out_size = 0;
    bool done = false;
    std::exception_ptr error;
  };

  Slot& slot(size_t seq) { return slots_[seq % slots_.size()]; }

  using Deflater = std::unique_ptr<libdeflate_compressor, void (*)(libdeflate_compressor*)>;
  Deflater deflater() const {
    return Deflater(libdeflate_alloc_compressor(level_), libdeflate_free_compressor);
  }

  // Into the slot's own output buffer; an error stays in the slot until the
  // block's turn to be written comes.
  void compress(Slot& s, libdeflate_compressor* c) const {
    try {
      if (!c)
        throw Error("cannot initialise gzip level " + std::to_string(level_) + " (libdeflate)");
      if (!s.out)
        s.out = std::make_unique<PopulatedBuffer>(libdeflate_gzip_compress_bound(c, kBlock));
      const char* in = s.in ? s.in->data() : "";
      s.out_size = libdeflate_gzip_compress(c, in, s.used, s.out->data(), s.out->size());
      if (s.out_size == 0) throw Error("gzip compression failed (libdeflate)");
    } catch (...) {
      s.error = std::current_exception();
    }
  }

  // Hands the filled slot to the workers, then waits (writing finished
  // blocks out in order) until the next slot is free to fill.
  void submit() {
    if (pool_.empty())
      for (unsigned t = 0; t < workers_; ++t) pool_.emplace_back([this] { work(); });
    {
      std::lock_guard lock(mu_);
      queue_.push_back(filled_++);
    }
    work_.notify_one();
    while (filled_ - emitted_ >= slots_.size()) emit_oldest();
  }

  void emit_oldest() {
    Slot& s = slot(emitted_);
    {
      std::unique_lock lock(mu_);
      done_.wait(lock, [&] { return s.done; });
    }
    if (s.error) std::rethrow_exception(s.error);
    out_(std::string_view(s.out->data(), s.out_size));
    s.used = 0;
    s.done = false;
    ++emitted_;
  }

  void work() {
    Deflater c = deflater();
    for (;;) {
      size_t seq;
      {
        std::unique_lock lock(mu_);
        work_.wait(lock, [&] { return stop_ || !queue_.empty(); });
        if (queue_.empty()) return;
        seq = queue_.front();
        queue_.pop_front();
      }
      Slot& s = slot(seq);
      compress(s, c.get());
      {
        std::lock_guard lock(mu_);
        s.done = true;
      }
      done_.notify_all();
    }
  }

  int level_;
  Output out_;
  unsigned workers_;
  std::vector<Slot> slots_;
  size_t filled_ = 0;   // blocks handed to the workers (the next one is filling)
  size_t emitted_ = 0;  // blocks written out
  std::mutex mu_;
  std::condition_variable work_, done_;
  std::deque<size_t> queue_;
  bool stop_ = false;
  std::vector<std::thread> pool_;
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
      return "gzip-" + std::to_string(options.gzip_level) + "-libdeflate" LIBDEFLATE_VERSION_STRING;
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
