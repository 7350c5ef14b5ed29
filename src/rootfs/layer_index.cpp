// Little-endian fixed-width fields and length-prefixed strings: simple to
// bound-check, and fast to read back on a warm run.
#include "layer_index.hpp"

#include <cstring>

#include "dslim/error.hpp"

namespace dslim::rootfs {
namespace {

constexpr uint32_t kMaxString = 1 << 20;

template <typename T>
void put(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.append(b, sizeof(T));
}

void put_string(std::string& out, const std::string& s) {
  put<uint32_t>(out, static_cast<uint32_t>(s.size()));
  out += s;
}

class Parser {
 public:
  Parser(std::string_view bytes, const std::string& what) : left_(bytes), what_(what) {}
  template <typename T>
  T get() {
    need(sizeof(T));
    T v;
    std::memcpy(&v, left_.data(), sizeof(T));
    left_.remove_prefix(sizeof(T));
    return v;
  }
  std::string get_string() {
    uint32_t n = get<uint32_t>();
    if (n > kMaxString) bad("a string of " + std::to_string(n) + " bytes");
    need(n);
    std::string s(left_.substr(0, n));
    left_.remove_prefix(n);
    return s;
  }
  bool done() const { return left_.empty(); }
  size_t left() const { return left_.size(); }
  [[noreturn]] void bad(const std::string& why) const {
    throw Error(what_ + ": malformed layer index (" + why + ")");
  }

 private:
  void need(size_t n) const {
    if (left_.size() < n) bad("truncated");
  }
  std::string_view left_;
  const std::string& what_;
};

}  // namespace

std::string serialize(const LayerIndex& index) {
  std::string out;
  put_string(out, index.diff_id);
  put<uint64_t>(out, index.tar_size);
  put<uint64_t>(out, index.entries.size());
  for (const auto& e : index.entries) {
    put<uint8_t>(out, e.kind);
    put<uint8_t>(out, e.hardlink);
    put<uint8_t>(out, static_cast<uint8_t>(e.stat.type));
    put<uint32_t>(out, e.stat.mode);
    put<uint32_t>(out, e.stat.uid);
    put<uint32_t>(out, e.stat.gid);
    put<uint64_t>(out, e.stat.size);
    put<uint64_t>(out, e.offset);
    put<uint32_t>(out, e.crc);
    put_string(out, e.path);
    put_string(out, e.link);
  }
  return out;
}

LayerIndex parse_layer_index(std::string_view bytes, const std::string& what) {
  Parser p(bytes, what);
  LayerIndex index;
  index.diff_id = p.get_string();
  index.tar_size = p.get<uint64_t>();
  uint64_t count = p.get<uint64_t>();
  // Each entry takes at least 43 bytes: a count beyond that is a lie.
  if (count > p.left() / 43) p.bad("claims " + std::to_string(count) + " entries");
  index.entries.resize(count);
  for (auto& e : index.entries) {
    uint8_t kind = p.get<uint8_t>();
    uint8_t hardlink = p.get<uint8_t>();
    uint8_t type = p.get<uint8_t>();
    if (kind > LayerEntry::Opaque || hardlink > 1 || type > static_cast<uint8_t>(FileType::Other))
      p.bad("bad entry kind");
    e.kind = static_cast<LayerEntry::Kind>(kind);
    e.hardlink = hardlink != 0;
    e.stat.type = static_cast<FileType>(type);
    e.stat.mode = p.get<uint32_t>() & 07777;
    e.stat.uid = p.get<uint32_t>();
    e.stat.gid = p.get<uint32_t>();
    e.stat.size = p.get<uint64_t>();
    e.offset = p.get<uint64_t>();
    e.crc = p.get<uint32_t>();
    e.path = p.get_string();
    e.link = p.get_string();
    if (e.path.empty() || normalize(e.path) != e.path)
      p.bad("entry path " + e.path + " is not a clean absolute path");
    if (e.stat.type == FileType::Regular && !e.hardlink &&
        (e.offset > index.tar_size || e.stat.size > index.tar_size - e.offset))
      p.bad("entry " + e.path + " lies outside the tar");
  }
  if (!p.done()) p.bad("trailing bytes");
  return index;
}

}  // namespace dslim::rootfs
