#pragma once
// The dynamic symbol table and its GNU version tables, read as the loader
// reads them: through DT_SYMTAB, DT_STRTAB, DT_VERSYM, DT_VERDEF and
// DT_VERNEED, with DT_GNU_HASH (or DT_HASH) telling how many symbols there
// are. Section headers are not used: a stripped file has the same tables.
#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dslim/byte_order.hpp"
#include "dslim/elf.hpp"

namespace dslim::elf {

constexpr uint16_t kVerNdxLocal = 0;        // VER_NDX_LOCAL
constexpr uint16_t kVerNdxGlobal = 1;       // VER_NDX_GLOBAL: unversioned
constexpr uint16_t kVersymHidden = 0x8000;  // not the default version of its name
constexpr uint16_t kVerFlgBase = 1;         // VER_FLG_BASE: the object's own name
constexpr uint16_t kVerFlgWeak = 2;         // VER_FLG_WEAK: a missing version is no error

constexpr uint8_t kStbLocal = 0, kStbGlobal = 1, kStbWeak = 2, kStbGnuUnique = 10;
constexpr uint8_t kSttNotype = 0, kSttObject = 1, kSttFunc = 2, kSttCommon = 5, kSttTls = 6,
                  kSttGnuIfunc = 10;

struct Symbol {
  uint32_t name = 0;                // offset in the dynamic string table
  uint16_t versym = kVerNdxGlobal;  // its .gnu.version entry (kVersymHidden bit kept)
  uint8_t info = 0;                 // st_info: binding << 4 | type
  bool defined = false;             // st_shndx != SHN_UNDEF
  bool has_value = false;  // st_value != 0 (the loaders skip a defined non-TLS symbol without one)

  uint8_t binding() const { return info >> 4; }
  uint8_t type() const { return info & 0xf; }
  uint16_t version() const { return versym & 0x7fff; }
  bool hidden() const { return (versym & kVersymHidden) != 0; }
  // What a lookup from another object may bind to (glibc's do_lookup_x and
  // musl's find_sym agree on these rules).
  bool exported() const;
};

// A version this object defines (DT_VERDEF); the first, flagged kVerFlgBase,
// is the object's own name, not a version.
struct VersionDef {
  uint16_t index = 0;
  uint16_t flags = 0;
  std::string name;
};

// The versions this object needs from one file (DT_VERNEED).
struct VersionNeed {
  struct Version {
    uint16_t index = 0;  // vna_other: what .gnu.version entries name it by
    uint16_t flags = 0;
    std::string name;
  };
  std::string file;  // as the DT_NEEDED string names it ("libc.so.6")
  std::vector<Version> versions;
};

// An object's version definitions and needs, indexed as .gnu.version
// entries name them. Small, and kept per object after its symbols are gone.
class Versions {
 public:
  Versions() = default;
  Versions(std::vector<VersionDef> defs, std::vector<VersionNeed> needs);

  const std::vector<VersionDef>& defs() const { return defs_; }
  const std::vector<VersionNeed>& needs() const { return needs_; }
  // The name of version `index` (kVersymHidden ignored): a definition's or a
  // need's; empty for an unversioned index or one no table names.
  std::string_view name(uint16_t index) const;
  // The need (file) a version `index` comes from; nullptr when it is not a need's.
  const VersionNeed* need_of(uint16_t index) const;
  // The versions defined, in table order, without the base entry.
  std::vector<std::string> defined() const;
  bool defines(std::string_view version) const;

 private:
  std::vector<VersionDef> defs_;
  std::vector<VersionNeed> needs_;
  // By version index: 1 + position in defs_ (> 0), -(1 + position in
  // needs_) (< 0), 0 for none. Positions, not pointers: copies stay valid.
  std::vector<int32_t> by_index_;
};

// GNU hash of a symbol name (glibc's dl_new_hash).
uint32_t gnu_hash(std::string_view name);

// One object's symbol table, read into buffers that the next read() reuses:
// the checks read every object of a closure (ffmpeg's 215 hold 5.7 MB of
// tables), and on this machine class each fresh 4 KiB page costs a fault of
// ~15 us, more than reading it. Every count, offset and chain is checked
// against the file: a hostile table (counts past the end, a chain that never
// ends) is a dslim::Error naming the file, never a crash. An object without
// a symbol table reads as an empty one.
class SymbolTable {
 public:
  // Reads the tables that `info` (from read_elf over the same file) locates.
  void read(const ElfInfo& info, uint64_t size, const ReadAt& read_at, const std::string& name);
  void read(const ElfInfo& info, std::span<const std::byte> bytes, const std::string& name);

  // Symbols 1..size() of the table (entry 0 is the null symbol).
  size_t size() const { return count_ > 0 ? count_ - 1 : 0; }
  // Symbol i, 0 <= i < size(), decoded from the table. Inline: the checks
  // decode every symbol of a closure (100k for ffmpeg), twice.
  Symbol symbol(size_t i) const {
    const uint64_t index = i + 1;
    const std::byte* e = syms_ + index * entsize_;
    Symbol s;
    s.name = load_ordered<uint32_t>(e, little_);
    uint64_t value;
    uint16_t shndx;
    if (elf64_) {
      s.info = static_cast<uint8_t>(e[4]);
      shndx = load_ordered<uint16_t>(e + 6, little_);
      value = load_ordered<uint64_t>(e + 8, little_);
    } else {
      value = load_ordered<uint32_t>(e + 4, little_);
      s.info = static_cast<uint8_t>(e[12]);
      shndx = load_ordered<uint16_t>(e + 14, little_);
    }
    s.defined = shndx != 0;
    s.has_value = value != 0;
    if (versym_ != nullptr) s.versym = load_ordered<uint16_t>(versym_ + index * 2, little_);
    return s;
  }
  std::string_view name(const Symbol& symbol) const;
  // The GNU hash of symbol i's name: from DT_GNU_HASH where it holds it,
  // else computed (the lowest bit is not kept: compare hash >> 1).
  uint32_t hash31(size_t i) const {
    if (hashed(i)) return load_ordered<uint32_t>(chain_ + (i + 1 - symoffset_) * 4, little_) >> 1;
    return gnu_hash(name(symbol(i))) >> 1;
  }
  // Whether DT_GNU_HASH holds symbol i's hash (then it is a definition).
  bool hashed(size_t i) const { return chain_ != nullptr && i + 1 >= symoffset_; }
  const Versions& versions() const { return versions_; }

  // Buffers come from `memory` (the checks pass a huge-page arena).
  explicit SymbolTable(std::pmr::memory_resource* memory = std::pmr::get_default_resource())
      : window_(memory), extras_(memory) {}
  // The tables point into buffers this object owns.
  SymbolTable(const SymbolTable&) = delete;
  SymbolTable& operator=(const SymbolTable&) = delete;
  SymbolTable(SymbolTable&&) = default;
  SymbolTable& operator=(SymbolTable&&) = default;

 private:
  friend class SymbolReader;
  // Bytes from a memory resource, grown but never zeroed: a read of the file
  // fills them (a vector's zeroing was a seventh of reading a closure's tables).
  class Buffer {
   public:
    explicit Buffer(std::pmr::memory_resource* memory) : memory_(memory) {}
    Buffer(Buffer&& other) noexcept
        : memory_(other.memory_),
          data_(std::exchange(other.data_, nullptr)),
          size_(std::exchange(other.size_, 0)) {}
    Buffer& operator=(Buffer&& other) noexcept {
      std::swap(memory_, other.memory_);
      std::swap(data_, other.data_);
      std::swap(size_, other.size_);
      return *this;
    }
    ~Buffer() {
      if (data_ != nullptr) memory_->deallocate(data_, size_, alignof(std::max_align_t));
    }
    // At least `n` bytes; what they held before is gone.
    std::byte* room(size_t n) {
      if (n > size_) {
        if (data_ != nullptr) memory_->deallocate(data_, size_, alignof(std::max_align_t));
        data_ = static_cast<std::byte*>(memory_->allocate(n, alignof(std::max_align_t)));
        size_ = n;
      }
      return data_;
    }
    std::byte* data() const { return data_; }

   private:
    std::pmr::memory_resource* memory_;
    std::byte* data_ = nullptr;
    size_t size_ = 0;
  };
  Buffer window_;                    // the tables' span, read at once
  std::pmr::vector<Buffer> extras_;  // tables outside it (no linker's layout)
  const std::byte* syms_ = nullptr;
  const std::byte* versym_ = nullptr;  // nullptr: no DT_VERSYM
  const std::byte* chain_ = nullptr;   // DT_GNU_HASH's chain, for symbols from symoffset_ on
  const char* strings_ = nullptr;
  uint64_t strings_size_ = 0;
  uint64_t count_ = 0, entsize_ = 0, symoffset_ = 0;
  bool little_ = true, elf64_ = true;
  Versions versions_;
};

}  // namespace dslim::elf
