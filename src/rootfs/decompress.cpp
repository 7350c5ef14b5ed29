#include "decompress.hpp"

#include <isa-l/igzip_lib.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "dslim/error.hpp"

namespace dslim::rootfs {
namespace {

constexpr size_t kChunk = 1 << 20;

// Buffers the compressed input; the first bytes are peeked to pick the format.
class Input {
 public:
  explicit Input(std::unique_ptr<ByteReader> in) : in_(std::move(in)), buf_(kChunk) {}
  // At least `n` bytes buffered unless the stream ends first.
  void fill(size_t n) {
    if (end_ - start_ >= n || eof_) return;
    std::memmove(buf_.data(), buf_.data() + start_, end_ - start_);
    end_ -= start_;
    start_ = 0;
    while (end_ < n && !eof_) {
      size_t got = in_->read(reinterpret_cast<char*>(buf_.data()) + end_, buf_.size() - end_);
      eof_ = got == 0;
      end_ += got;
    }
  }
  const uint8_t* data() const { return buf_.data() + start_; }
  size_t size() const { return end_ - start_; }
  void consume(size_t n) { start_ += n; }
  bool eof() const { return eof_; }

 private:
  std::unique_ptr<ByteReader> in_;
  std::vector<uint8_t> buf_;
  size_t start_ = 0;
  size_t end_ = 0;
  bool eof_ = false;
};

class PlainReader : public ByteReader {
 public:
  explicit PlainReader(std::unique_ptr<Input> in) : in_(std::move(in)) {}
  size_t read(char* buf, size_t n) override {
    in_->fill(1);
    n = std::min(n, in_->size());
    std::memcpy(buf, in_->data(), n);
    in_->consume(n);
    return n;
  }

 private:
  std::unique_ptr<Input> in_;
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

// A gzip file may hold several members back to back; each is inflated in
// turn, and trailing zeros after the last are padding (gzip(1) skips them).
class GzipReader : public ByteReader {
 public:
  GzipReader(std::unique_ptr<Input> in, std::string where)
      : in_(std::move(in)), state_(std::make_unique<inflate_state>()), where_(std::move(where)) {
    start_member();
  }
  size_t read(char* buf, size_t n) override {
    for (;;) {
      if (finished_) {
        if (!next_member()) return 0;
      }
      in_->fill(1);
      state_->next_in = const_cast<uint8_t*>(in_->data());
      state_->avail_in = static_cast<uint32_t>(in_->size());
      state_->next_out = reinterpret_cast<uint8_t*>(buf);
      state_->avail_out = static_cast<uint32_t>(std::min<size_t>(n, 1u << 30));
      uint32_t had = state_->avail_in;
      int rc = isal_inflate(state_.get());
      if (rc < 0) throw Error(where_ + ": corrupt gzip stream: " + isal_error(rc));
      in_->consume(had - state_->avail_in);
      size_t produced = std::min<size_t>(n, 1u << 30) - state_->avail_out;
      finished_ = state_->block_state == ISAL_BLOCK_FINISH;
      if (produced > 0) return produced;
      if (!finished_ && in_->size() == 0 && in_->eof())
        throw Error(where_ + ": truncated gzip stream");
    }
  }

 private:
  void start_member() {
    isal_inflate_init(state_.get());
    state_->crc_flag = ISAL_GZIP;
    finished_ = false;
  }
  bool next_member() {
    for (;;) {
      in_->fill(1);
      if (in_->size() == 0) return false;
      const uint8_t* p = in_->data();
      size_t zeros = 0;
      while (zeros < in_->size() && p[zeros] == 0) ++zeros;
      if (zeros < in_->size()) break;
      in_->consume(zeros);
    }
    start_member();
    return true;
  }

  std::unique_ptr<Input> in_;
  std::unique_ptr<inflate_state> state_;  // ~40 KB: not on the stack
  std::string where_;
  bool finished_ = false;
};

class ZstdReader : public ByteReader {
 public:
  ZstdReader(std::unique_ptr<Input> in, std::string where)
      : in_(std::move(in)), ctx_(ZSTD_createDCtx(), ZSTD_freeDCtx), where_(std::move(where)) {
    if (!ctx_) throw Error(where_ + ": out of memory for zstd");
  }
  size_t read(char* buf, size_t n) override {
    for (;;) {
      in_->fill(1);
      // Output left inside zstd after a full buffer comes out without input.
      if (in_->size() == 0 && !out_full_) {
        if (hint_ != 0) throw Error(where_ + ": truncated zstd stream");
        return 0;
      }
      ZSTD_inBuffer in{in_->data(), in_->size(), 0};
      ZSTD_outBuffer out{buf, n, 0};
      hint_ = ZSTD_decompressStream(ctx_.get(), &out, &in);
      if (ZSTD_isError(hint_))
        throw Error(where_ + ": corrupt zstd stream: " + ZSTD_getErrorName(hint_));
      in_->consume(in.pos);
      out_full_ = out.pos == n;
      if (out.pos > 0) return out.pos;
    }
  }

 private:
  std::unique_ptr<Input> in_;
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> ctx_;
  std::string where_;
  size_t hint_ = 1;  // 0 once a frame has ended
  bool out_full_ = false;
};

}  // namespace

std::unique_ptr<ByteReader> decompressing_reader(std::unique_ptr<ByteReader> blob,
                                                 const std::string& where) {
  auto in = std::make_unique<Input>(std::move(blob));
  in->fill(4);
  auto starts = [&](std::string_view magic) {
    return in->size() >= magic.size() && std::memcmp(in->data(), magic.data(), magic.size()) == 0;
  };
  if (starts("\x1f\x8b")) return std::make_unique<GzipReader>(std::move(in), where);
  if (starts("\x28\xb5\x2f\xfd")) return std::make_unique<ZstdReader>(std::move(in), where);
  return std::make_unique<PlainReader>(std::move(in));
}

}  // namespace dslim::rootfs
