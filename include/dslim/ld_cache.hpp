#pragma once
// /etc/ld.so.cache as glibc's loader reads it (sysdeps/generic/dl-cache.h):
// the old `ld.so-1.7.0` format, the new `glibc-ld.so.cache1.1`, or both.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dslim::resolve {

// The strings are views of the cache's bytes, which the LdCache holds.
struct CacheEntry {
  int32_t flags = 0;       // FLAG_ELF_LIBC6 | arch bits (x86-64: 0x0303)
  std::string_view key;    // soname
  std::string_view value;  // path of the library
  uint32_t osversion = 0;
  uint64_t hwcap = 0;
  std::string_view hwcaps_subdir;  // "x86-64-v3" for glibc-hwcaps entries, else empty
};

class LdCache {
 public:
  // Parses a cache file; `name` is used in messages. Throws dslim::Error for a
  // file that is not a cache or whose offsets point outside it. Both byte
  // orders are read (the new header declares its own); a compat file is read
  // through its new table, as the loader does. A cache ldconfig marked invalid
  // gives no entries: the loader then ignores it.
  static LdCache parse(std::span<const std::byte> bytes, const std::string& name);

  const std::vector<CacheEntry>& entries() const { return entries_; }

  // The path the loader takes for `soname`: the first entry whose flags match
  // and that is not a glibc-hwcaps or legacy-hwcap entry. nullopt if none.
  // For required_flags 0x0003 (ports using the generic check, e.g. i386) a
  // plain FLAG_ELF (0x0001) entry is taken when no exact match exists.
  std::optional<std::string> lookup(std::string_view soname, int32_t required_flags) const;

  // Paths of glibc-hwcaps variants of `soname` with matching flags.
  std::vector<std::string> hwcaps_variants(std::string_view soname, int32_t required_flags) const;

 private:
  static LdCache indexed(std::shared_ptr<const std::vector<std::byte>> bytes,
                         std::vector<CacheEntry> entries);
  // Indices into entries_ of those named `soname`, in file order.
  std::span<const uint32_t> entries_for(std::string_view soname) const;
  // Orders indices by their entry's soname (and finds a soname among them).
  struct Less {
    const std::vector<CacheEntry>& entries;
    bool operator()(uint32_t a, std::string_view b) const { return entries[a].key < b; }
    bool operator()(std::string_view a, uint32_t b) const { return a < entries[b].key; }
  };

  // A copy of the file: parsing ~800 entries into strings of their own cost
  // more than the rest of reading the glibc rules.
  std::shared_ptr<const std::vector<std::byte>> bytes_;
  std::vector<CacheEntry> entries_;
  // Entry indices sorted by soname, entries of one soname in file order: the
  // resolver looks up every library of a closure, and a cache holds hundreds
  // of entries (a sorted table: no allocation per soname, unlike a hash map).
  std::vector<uint32_t> by_key_;
};

// Flags a cache entry must carry for an object of this class and machine
// (x86-64: 0x0303, x32: 0x0803, aarch64: 0x0a03, ppc64: 0x0503, s390x: 0x0403,
// riscv64 lp64d: 0x1003, i386 and ppc32: 0x0003); nullopt if unknown (32-bit
// ARM and MIPS, whose flags depend on the float ABI).
std::optional<int32_t> ld_cache_flags(bool elf64, uint16_t machine);

}  // namespace dslim::resolve
