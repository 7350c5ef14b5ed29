// Reader for /etc/ld.so.cache, after glibc's sysdeps/generic/dl-cache.h (layout),
// elf/dl-cache.c (what the loader accepts) and elf/cache.c (what ldconfig writes).
// The bytes come from an image, so every offset is checked before it is used.
#include "dslim/ld_cache.hpp"

#include <algorithm>
#include <cstring>
#include <string_view>

#include "dslim/error.hpp"

namespace dslim::resolve {
namespace {

constexpr std::string_view kOldMagic = "ld.so-1.7.0";           // CACHEMAGIC
constexpr std::string_view kNewMagic = "glibc-ld.so.cache1.1";  // CACHEMAGIC_VERSION_NEW
constexpr uint64_t kOldHeaderSize = 16;  // sizeof (struct cache_file): magic, pad, nlibs
constexpr uint64_t kOldEntrySize = 12;   // struct file_entry
constexpr uint64_t kNewHeaderSize = 48;  // sizeof (struct cache_file_new)
constexpr uint64_t kNewEntrySize = 24;   // struct file_entry_new

constexpr uint32_t kExtensionMagic = 0xeaa42174;    // cache_extension_magic, (uint32_t) -358342284
constexpr uint32_t kExtensionTagHwcaps = 1;         // cache_extension_tag_glibc_hwcaps
constexpr uint64_t kHwcapExtension = 1ULL << 62;    // DL_CACHE_HWCAP_EXTENSION
constexpr uint64_t kIsaLevelMask = (1U << 10) - 1;  // DL_CACHE_HWCAP_ISA_LEVEL_MASK

// cache_file_new.flags & 3 (cache_file_new_flags_endian_*; 0 = unset, 2 = little).
constexpr uint8_t kEndianInvalid = 1;
constexpr uint8_t kEndianBig = 3;

constexpr int32_t kFlagElf = 0x0001;       // FLAG_ELF
constexpr int32_t kFlagElfLibc6 = 0x0003;  // FLAG_ELF_LIBC6

// dl_cache_hwcap_extension(): bit 62 set and nothing else in the upper half
// besides the ISA level bits that glibc 2.33-2.36 ldconfig stores there.
bool is_hwcaps_extension(uint64_t hwcap) {
  return ((hwcap >> 32) & ~kIsaLevelMask) == (kHwcapExtension >> 32);
}

// Bounds-checked reads from the cache in the byte order it declares.
class Reader {
 public:
  Reader(std::span<const std::byte> bytes, const std::string& name) : bytes_(bytes), name_(name) {}

  uint64_t size() const { return bytes_.size(); }
  void set_big_endian(bool big) { big_ = big; }

  [[noreturn]] void corrupt(const std::string& what) const {
    throw Error(name_ + ": corrupt ld.so.cache (" + what + ")");
  }

  bool has_magic(uint64_t off, std::string_view magic) const {
    return off <= size() && size() - off >= magic.size() &&
           std::memcmp(bytes_.data() + off, magic.data(), magic.size()) == 0;
  }

  uint8_t u8(uint64_t off) const {
    need(off, 1);
    return static_cast<uint8_t>(bytes_[off]);
  }
  uint32_t u32(uint64_t off) const { return static_cast<uint32_t>(uint(off, 4)); }
  uint64_t u64(uint64_t off) const { return uint(off, 8); }

  // NUL-terminated string at `table + off`, where the table ends at the end of
  // the file (the loader checks string indices against the mapped size only).
  std::string_view str(uint64_t table, uint32_t off) const {
    if (table > size() || off >= size() - table)
      corrupt("string offset " + std::to_string(off) + " beyond end");
    const char* begin = reinterpret_cast<const char*>(bytes_.data()) + table + off;
    const void* nul = std::memchr(begin, '\0', size() - table - off);
    if (nul == nullptr) corrupt("string at offset " + std::to_string(off) + " not terminated");
    return {begin, static_cast<size_t>(static_cast<const char*>(nul) - begin)};
  }

 private:
  void need(uint64_t off, uint64_t len) const {
    if (off > size() || size() - off < len)
      corrupt("read of " + std::to_string(len) + " bytes at offset " + std::to_string(off) +
              " beyond end");
  }
  uint64_t uint(uint64_t off, unsigned len) const {
    need(off, len);
    uint64_t v = 0;
    for (unsigned i = 0; i < len; ++i) {
      unsigned shift = big_ ? 8 * (len - 1 - i) : 8 * i;
      v |= static_cast<uint64_t>(static_cast<uint8_t>(bytes_[off + i])) << shift;
    }
    return v;
  }

  std::span<const std::byte> bytes_;
  const std::string& name_;
  bool big_ = false;
};

uint64_t align8(uint64_t v) {
  return (v + 7) & ~uint64_t{7};
}

// The old table: entries right after the 16-byte header, string offsets
// counted from the end of the entries.
std::vector<CacheEntry> parse_old(const Reader& r, uint32_t nlibs) {
  uint64_t table = kOldHeaderSize + kOldEntrySize * nlibs;
  std::vector<CacheEntry> out;
  out.reserve(nlibs);
  for (uint64_t i = 0; i < nlibs; ++i) {
    uint64_t off = kOldHeaderSize + kOldEntrySize * i;
    CacheEntry e;
    e.flags = static_cast<int32_t>(r.u32(off));
    e.key = r.str(table, r.u32(off + 4));
    e.value = r.str(table, r.u32(off + 8));
    out.push_back(std::move(e));
  }
  return out;
}

// String-table indices of the glibc-hwcaps subdirectory names (extension
// section tag 1); empty when the cache has none.
std::vector<uint32_t> read_hwcaps_section(const Reader& r, uint64_t header) {
  uint32_t ext = r.u32(header + 32);
  if (ext == 0) return {};  // no extensions: not a format error (cache_extension_load)
  if (ext % 4 != 0) r.corrupt("misaligned extension offset " + std::to_string(ext));
  // Offsets in the extension directory count from the start of the file, not
  // of the new header (cache_extension_load gets the file base).
  if (r.u32(ext) != kExtensionMagic) r.corrupt("bad extension magic");
  uint32_t count = r.u32(ext + 4);
  uint64_t dir_end = uint64_t{ext} + 8 + uint64_t{count} * 16;
  if (dir_end > r.size())
    r.corrupt("extension directory of " + std::to_string(count) + " sections beyond end");
  std::vector<uint32_t> names;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t sec = uint64_t{ext} + 8 + 16 * i;
    uint32_t tag = r.u32(sec);
    uint32_t offset = r.u32(sec + 8);
    uint32_t size = r.u32(sec + 12);
    if (uint64_t{offset} + size > r.size())
      r.corrupt("extension section at offset " + std::to_string(offset) + " beyond end");
    // cache_extension_verify drops a hwcaps section that is empty or not
    // 4-byte aligned and sized; a later section with the same tag wins.
    if (tag != kExtensionTagHwcaps) continue;
    names.clear();
    if (size == 0 || offset % 4 != 0 || size % 4 != 0) continue;
    names.reserve(size / 4);
    for (uint64_t j = 0; j < size / 4; ++j) names.push_back(r.u32(offset + 4 * j));
  }
  return names;
}

// The new table at `header` (0, or after the old table in the compat layout).
std::vector<CacheEntry> parse_new(Reader& r, uint64_t header) {
  uint8_t endian = r.u8(header + 28) & 3;
  // ldconfig marks a cache it could not finish as invalid; the loader then
  // uses no cache at all, which is what an empty table does here.
  if (endian == kEndianInvalid) return {};
  // Unset comes from an ldconfig older than the endianness field (glibc 2.32):
  // such caches were written on the host, and we read little-endian.
  r.set_big_endian(endian == kEndianBig);

  uint32_t nlibs = r.u32(header + 20);
  // The loader's own corruption check, before anything is allocated.
  if ((r.size() - header - kNewHeaderSize) / kNewEntrySize < nlibs)
    r.corrupt(std::to_string(nlibs) + " entries do not fit in " + std::to_string(r.size()) +
              " bytes");
  std::vector<uint32_t> hwcaps = read_hwcaps_section(r, header);

  std::vector<CacheEntry> out;
  out.reserve(nlibs);
  for (uint64_t i = 0; i < nlibs; ++i) {
    uint64_t off = header + kNewHeaderSize + kNewEntrySize * i;
    CacheEntry e;
    e.flags = static_cast<int32_t>(r.u32(off));
    // All string offsets of the new table, hwcaps names included, count from
    // the new header (cache.c adds the same str_offset to each).
    e.key = r.str(header, r.u32(off + 4));
    e.value = r.str(header, r.u32(off + 8));
    e.osversion = r.u32(off + 12);
    e.hwcap = r.u64(off + 16);
    if (is_hwcaps_extension(e.hwcap)) {
      uint32_t index = static_cast<uint32_t>(e.hwcap);
      if (index >= hwcaps.size())
        r.corrupt("glibc-hwcaps index " + std::to_string(index) + " beyond " +
                  std::to_string(hwcaps.size()) + " names");
      e.hwcaps_subdir = r.str(header, hwcaps[index]);
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

LdCache LdCache::indexed(std::shared_ptr<const std::vector<std::byte>> bytes,
                         std::vector<CacheEntry> entries) {
  LdCache cache;
  cache.bytes_ = std::move(bytes);
  cache.entries_ = std::move(entries);
  cache.by_key_.resize(cache.entries_.size());
  for (uint32_t i = 0; i < cache.by_key_.size(); ++i) cache.by_key_[i] = i;
  // Stable: entries of one soname stay in file order, which decides.
  std::stable_sort(cache.by_key_.begin(), cache.by_key_.end(), [&](uint32_t a, uint32_t b) {
    return cache.entries_[a].key < cache.entries_[b].key;
  });
  return cache;
}

std::span<const uint32_t> LdCache::entries_for(std::string_view soname) const {
  auto [first, last] = std::equal_range(by_key_.begin(), by_key_.end(), soname, Less{entries_});
  return {first, last};
}

LdCache LdCache::parse(std::span<const std::byte> file, const std::string& name) {
  auto bytes = std::make_shared<const std::vector<std::byte>>(file.begin(), file.end());
  Reader r(*bytes, name);
  if (r.size() > kNewHeaderSize && r.has_magic(0, kNewMagic)) {
    return indexed(bytes, parse_new(r, 0));
  }
  if (r.size() <= kOldHeaderSize || !r.has_magic(0, kOldMagic))
    throw Error(name + ": not an ld.so.cache file");

  // The old format has no byte-order mark; a compat file's new header has one,
  // so try both orders for the count that locates it.
  for (bool big : {false, true}) {
    r.set_big_endian(big);
    uint64_t old_end = kOldHeaderSize + kOldEntrySize * uint64_t{r.u32(12)};
    if (old_end > r.size()) continue;
    // The new header sits at ALIGN_CACHE(old_end), __alignof__ (struct
    // cache_file_new): 8 on most ABIs, 4 on i386, where that is old_end itself.
    for (uint64_t header : {align8(old_end), old_end}) {
      if (header + kNewHeaderSize <= r.size() && r.has_magic(header, kNewMagic)) {
        return indexed(bytes, parse_new(r, header));
      }
    }
  }
  for (bool big : {false, true}) {
    r.set_big_endian(big);
    uint32_t nlibs = r.u32(12);
    if ((r.size() - kOldHeaderSize) / kOldEntrySize >= nlibs) {
      return indexed(bytes, parse_old(r, nlibs));
    }
  }
  r.set_big_endian(false);
  r.corrupt(std::to_string(r.u32(12)) + " entries do not fit in " + std::to_string(r.size()) +
            " bytes");
}

std::optional<std::string> LdCache::lookup(std::string_view soname, int32_t required_flags) const {
  // Generic _dl_cache_check_flags (i386 and other arches without their own)
  // also takes plain FLAG_ELF entries, but keeps looking for an exact match.
  const CacheEntry* fallback = nullptr;
  for (uint32_t i : entries_for(soname)) {
    const CacheEntry& e = entries_[i];
    if (e.hwcap != 0) continue;
    if (e.flags == required_flags) return std::string(e.value);
    if (required_flags == kFlagElfLibc6 && e.flags == kFlagElf && fallback == nullptr)
      fallback = &e;
  }
  if (fallback != nullptr) return std::string(fallback->value);
  return std::nullopt;
}

std::vector<std::string> LdCache::hwcaps_variants(std::string_view soname,
                                                  int32_t required_flags) const {
  std::vector<std::string> out;
  for (uint32_t i : entries_for(soname)) {
    const CacheEntry& e = entries_[i];
    if (is_hwcaps_extension(e.hwcap) && e.flags == required_flags) out.emplace_back(e.value);
  }
  return out;
}

std::optional<int32_t> ld_cache_flags(bool elf64, uint16_t machine) {
  // _DL_CACHE_DEFAULT_ID of each glibc port (sysdeps/unix/sysv/linux/*/dl-cache.h,
  // FLAG_* from sysdeps/generic/ldconfig.h). 32-bit ARM and MIPS are left out:
  // their flags depend on the float/NaN ABI, which the machine alone does not give.
  constexpr uint16_t kEm386 = 3, kEmPpc = 20, kEmPpc64 = 21, kEmS390 = 22, kEmX8664 = 62,
                     kEmAarch64 = 183, kEmRiscv = 243;
  switch (machine) {
    case kEmX8664:
      return elf64 ? 0x0303 : 0x0803;  // FLAG_X8664_LIB64, x32: FLAG_X8664_LIBX32
    case kEm386:
      if (!elf64) return kFlagElfLibc6;  // generic
      break;
    case kEmPpc:
      if (!elf64) return kFlagElfLibc6;  // generic
      break;
    case kEmAarch64:
      if (elf64) return 0x0a03;  // FLAG_AARCH64_LIB64
      break;
    case kEmPpc64:
      if (elf64) return 0x0503;  // FLAG_POWERPC_LIB64, both byte orders
      break;
    case kEmS390:
      if (elf64) return 0x0403;  // FLAG_S390_LIB64 (s390x)
      break;
    case kEmRiscv:
      // FLAG_RISCV_FLOAT_ABI_DOUBLE: lp64d, the ABI of every distribution's
      // riscv64 port (soft-float would be 0x0f03, told only by e_flags).
      if (elf64) return 0x1003;
      break;
    default:
      break;
  }
  return std::nullopt;
}

}  // namespace dslim::resolve
