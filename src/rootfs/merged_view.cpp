#include "merged_view.hpp"

#include <algorithm>
#include <cstring>
#include <tuple>

#include "dslim/crc32.hpp"
#include "dslim/error.hpp"

namespace dslim::rootfs {
namespace {

constexpr char kMagic[8] = {'d', 's', 'l', 'i', 'm', 'M', 'R', 'G'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeader = 40;
constexpr size_t kRecord = 72;

// "/usr/lib" -> {"/usr", "lib"}, "/usr" -> {"/", "usr"}, "/" -> {"", ""}:
// the sort key, which puts a directory's children next to each other.
std::pair<std::string_view, std::string_view> split(std::string_view path) {
  if (path == "/") return {"", ""};
  size_t slash = path.rfind('/');
  return {slash == 0 ? path.substr(0, 1) : path.substr(0, slash), path.substr(slash + 1)};
}

template <typename T>
void put(std::string& out, size_t at, T v) {
  std::memcpy(out.data() + at, &v, sizeof v);
}
template <typename T>
T get(const char* p, size_t at) {
  T v;
  std::memcpy(&v, p + at, sizeof v);
  return v;
}

}  // namespace

std::string serialize_merged(const std::vector<MergedEntry>& entries, uint32_t layers) {
  // Keys split once, not at every comparison.
  struct Keyed {
    std::string_view parent, name;
    const MergedEntry* entry;
  };
  std::vector<Keyed> keyed;
  keyed.reserve(entries.size());
  for (const auto& e : entries) {
    auto [parent, name] = split(e.path);
    keyed.push_back({parent, name, &e});
  }
  std::sort(keyed.begin(), keyed.end(), [](const Keyed& a, const Keyed& b) {
    return std::tie(a.parent, a.name) < std::tie(b.parent, b.name);
  });
  size_t strings = 0;
  for (const auto& e : entries) strings += e.path.size() + e.link.size();
  std::string out(kHeader + entries.size() * kRecord + strings, '\0');
  std::memcpy(out.data(), kMagic, sizeof kMagic);
  put<uint32_t>(out, 8, kVersion);
  put<uint32_t>(out, 12, layers);
  put<uint64_t>(out, 16, entries.size());
  put<uint64_t>(out, 24, strings);
  size_t rec = kHeader;
  size_t str = kHeader + entries.size() * kRecord;
  const size_t str_base = str;
  for (const auto& k : keyed) {
    const MergedEntry& e = *k.entry;
    // An empty view may have no data pointer at all: copy() leaves it be.
    put<uint64_t>(out, rec + 0, str - str_base);
    str += e.path.copy(out.data() + str, e.path.size());
    put<uint64_t>(out, rec + 8, str - str_base);
    str += e.link.copy(out.data() + str, e.link.size());
    put<uint32_t>(out, rec + 16, static_cast<uint32_t>(e.path.size()));
    put<uint32_t>(out, rec + 20, static_cast<uint32_t>(e.link.size()));
    put<uint32_t>(out, rec + 24, e.layer);
    put<uint32_t>(out, rec + 28, e.entry);
    put<uint64_t>(out, rec + 32, e.offset);
    put<uint64_t>(out, rec + 40, e.stat.size);
    put<uint32_t>(out, rec + 48, e.stat.mode);
    put<uint32_t>(out, rec + 52, e.stat.uid);
    put<uint32_t>(out, rec + 56, e.stat.gid);
    put<uint32_t>(out, rec + 60, e.crc);
    put<uint8_t>(out, rec + 64, static_cast<uint8_t>(e.stat.type));
    rec += kRecord;
  }
  // The CRC field (bytes 32..35) covers what follows the header.
  put<uint32_t>(out, 32, crc32(std::string_view(out).substr(kHeader)));
  return out;
}

MergedView::MergedView(std::string bytes, const std::string& what) : owned_(std::move(bytes)) {
  bytes_ = owned_;
  open(what);
}

MergedView::MergedView(std::unique_ptr<FileView> hold, const std::string& what)
    : hold_(std::move(hold)) {
  auto b = hold_->bytes();
  bytes_ = {reinterpret_cast<const char*>(b.data()), b.size()};
  open(what);
}

void MergedView::open(const std::string& what) {
  auto bad = [&](const std::string& why) { return Error(what + ": damaged merged view: " + why); };
  if (bytes_.size() < kHeader || std::memcmp(bytes_.data(), kMagic, sizeof kMagic) != 0)
    throw bad("no header");
  const char* p = bytes_.data();
  if (get<uint32_t>(p, 8) != kVersion) throw bad("version " + std::to_string(get<uint32_t>(p, 8)));
  layers_ = get<uint32_t>(p, 12);
  uint64_t count = get<uint64_t>(p, 16);
  uint64_t strings = get<uint64_t>(p, 24);
  uint64_t body = bytes_.size() - kHeader;
  if (count > body / kRecord || strings != body - count * kRecord) throw bad("sizes do not add up");
  if (get<uint32_t>(p, 32) != crc32(bytes_.substr(kHeader))) throw bad("checksum mismatch");
  count_ = static_cast<size_t>(count);
  records_ = p + kHeader;
  strings_ = bytes_.substr(kHeader + count_ * kRecord);
  // Bounds once here, so lookups need none.
  for (size_t i = 0; i < count_; ++i) {
    const char* r = records_ + i * kRecord;
    uint64_t path_at = get<uint64_t>(r, 0), link_at = get<uint64_t>(r, 8);
    uint32_t path_len = get<uint32_t>(r, 16), link_len = get<uint32_t>(r, 20);
    if (path_at > strings || path_len > strings - path_at || link_at > strings ||
        link_len > strings - link_at || path_len == 0 || strings_[path_at] != '/')
      throw bad("entry " + std::to_string(i) + " points outside its strings");
    auto type = get<uint8_t>(r, 64);
    if (type > static_cast<uint8_t>(FileType::Other) ||
        (type == static_cast<uint8_t>(FileType::Regular) && get<uint32_t>(r, 24) >= layers_))
      throw bad("entry " + std::to_string(i) + " is malformed");
  }
}

MergedEntry MergedView::at(size_t i) const {
  const char* r = records_ + i * kRecord;
  MergedEntry e;
  e.path = strings_.substr(get<uint64_t>(r, 0), get<uint32_t>(r, 16));
  e.link = strings_.substr(get<uint64_t>(r, 8), get<uint32_t>(r, 20));
  e.layer = get<uint32_t>(r, 24);
  e.entry = get<uint32_t>(r, 28);
  e.offset = get<uint64_t>(r, 32);
  e.stat.size = get<uint64_t>(r, 40);
  e.stat.mode = get<uint32_t>(r, 48);
  e.stat.uid = get<uint32_t>(r, 52);
  e.stat.gid = get<uint32_t>(r, 56);
  e.crc = get<uint32_t>(r, 60);
  e.stat.type = static_cast<FileType>(get<uint8_t>(r, 64));
  return e;
}

std::optional<MergedEntry> MergedView::find(std::string_view path) const {
  const auto key = split(path);
  size_t lo = 0, hi = count_;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (split(at(mid).path) < key)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo < count_ && at(lo).path == path) return at(lo);
  return std::nullopt;
}

std::vector<std::string> MergedView::children(std::string_view dir) const {
  auto parent = [&](size_t i) { return split(at(i).path).first; };
  size_t lo = 0, hi = count_;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (parent(mid) < dir)
      lo = mid + 1;
    else
      hi = mid;
  }
  std::vector<std::string> out;
  for (size_t i = lo; i < count_ && parent(i) == dir; ++i)
    out.emplace_back(split(at(i).path).second);
  return out;
}

}  // namespace dslim::rootfs
