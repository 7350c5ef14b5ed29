#include "dslim/byte_reader.hpp"

#include <algorithm>
#include <cstring>

#include "dslim/error.hpp"

namespace dslim {
namespace {

class MemoryReader : public ByteReader {
 public:
  explicit MemoryReader(std::string_view bytes) : left_(bytes) {}
  size_t read(char* buf, size_t n) override {
    n = std::min(n, left_.size());
    std::memcpy(buf, left_.data(), n);
    left_.remove_prefix(n);
    return n;
  }

 private:
  std::string_view left_;
};

}  // namespace

std::string read_all(ByteReader& r, uint64_t max, const std::string& what) {
  std::string out;
  char buf[1 << 16];
  while (size_t n = r.read(buf, sizeof buf)) {
    if (out.size() + n > max)
      throw Error(what + ": larger than " + std::to_string(max) + " bytes, the bound for it");
    out.append(buf, n);
  }
  return out;
}

std::unique_ptr<ByteReader> memory_reader(std::string_view bytes) {
  return std::make_unique<MemoryReader>(bytes);
}

}  // namespace dslim
