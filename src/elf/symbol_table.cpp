// The dynamic symbol table and the GNU version tables, for the symbol and
// version checks: whole tables in a few reads, every offset and chain checked
// against the file (these tables are read from every object of a closure,
// hostile ones included).
#include <algorithm>
#include <cstring>
#include <limits>

#include "dslim/elf_symbols.hpp"
#include "dslim/error.hpp"
#include "elf/byte_view.hpp"

namespace dslim::elf {
namespace {

constexpr uint64_t kSym32Size = 16, kSym64Size = 24;
constexpr uint64_t kVerdefSize = 20, kVerdauxSize = 8, kVerneedSize = 16, kVernauxSize = 16;
// Version indices are 15 bits: no real table has more entries than that.
constexpr uint64_t kMaxVersions = 0x7fff;

// The largest span of tables read in one go.
constexpr uint64_t kMaxWindow = 64ull << 20;
// How far past the start of the last table its end is guessed to lie (the
// version tables come last and are small).
constexpr uint64_t kTailSlack = 4096;

// A small table (a header, buckets, a version entry) at a pointer the
// reader has checked, with integer reads in the file's byte order.
class Table {
 public:
  Table(const std::byte* at, uint64_t size, bool little) : at_(at), size_(size), little_(little) {}
  // Out of range reads 0, as a last line of defence (callers stay inside).
  uint64_t get(uint64_t offset, unsigned width) const {
    if (offset > size_ || width > size_ - offset) return 0;
    return detail::load_uint(at_ + offset, width, little_);
  }
  const std::byte* at(uint64_t offset) const { return at_ + offset; }

 private:
  const std::byte* at_;
  uint64_t size_;
  bool little_;
};

}  // namespace

class SymbolReader {
 public:
  SymbolReader(SymbolTable& out, const ElfInfo& info, uint64_t size, const ReadAt& read_at,
               const std::string& name)
      : out_(out),
        t_(info.tables),
        size_(size),
        read_at_(read_at),
        name_(name),
        little_(info.little_endian),
        elf64_(info.elf_class == ElfClass::Elf64) {}

  void read() {
    // Empty until the whole table is read: a throw leaves no half table.
    out_.count_ = 0;
    out_.versions_ = Versions();
    out_.little_ = little_;
    out_.elf64_ = elf64_;
    out_.syms_ = out_.versym_ = out_.chain_ = nullptr;
    out_.strings_ = nullptr;
    out_.strings_size_ = 0;
    if (t_.symtab == 0) return;
    for (auto [offset, tag] : {std::pair{t_.symtab, "DT_SYMTAB"},
                               {t_.strtab, "DT_STRTAB"},
                               {t_.gnu_hash, "DT_GNU_HASH"},
                               {t_.hash, "DT_HASH"},
                               {t_.versym, "DT_VERSYM"},
                               {t_.verdef, "DT_VERDEF"},
                               {t_.verneed, "DT_VERNEED"}}) {
      if (offset == DynamicTables::kUnmapped)
        fail(std::string(tag) + " address is not inside any PT_LOAD segment");
    }
    if (t_.strtab == 0) fail("has DT_SYMTAB but no DT_STRTAB");
    const uint64_t entsize = elf64_ ? kSym64Size : kSym32Size;
    if (t_.syment != 0 && t_.syment != entsize) {
      fail("DT_SYMENT is " + std::to_string(t_.syment) + ", expected " + std::to_string(entsize));
    }
    check_range(t_.strtab, t_.strsz, "dynamic string table");
    read_window();
    strings_size_ = t_.strsz;
    strings_ =
        reinterpret_cast<const char*>(view(t_.strtab, strings_size_, "dynamic string table"));
    const uint64_t count = symbol_count(entsize);
    read_symbols(count, entsize);
    std::vector<VersionDef> defs;
    std::vector<VersionNeed> needs;
    if (t_.verdef != 0) read_verdefs(defs);
    if (t_.verneed != 0) read_verneeds(needs);
    out_.versions_ = Versions(std::move(defs), std::move(needs));
    out_.strings_ = strings_;
    out_.strings_size_ = strings_size_;
    out_.entsize_ = entsize;
    out_.count_ = count;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw Error(name_ + ": " + what); }

  void check_range(uint64_t offset, uint64_t length, const char* what) const {
    if (offset > size_ || length > size_ - offset) {
      fail(std::string("truncated ELF file (") + what + " ends at " +
           (length > std::numeric_limits<uint64_t>::max() - offset
                ? std::string("beyond 2^64")
                : std::to_string(offset + length)) +
           ", file is " + std::to_string(size_) + " bytes)");
    }
  }

  // Linkers lay the hash, symbol, string and version tables side by side:
  // one read of their span serves them all (two reads per object, not one
  // per table and version entry).
  void read_window() {
    uint64_t lo = std::numeric_limits<uint64_t>::max(), last = 0;
    for (uint64_t offset :
         {t_.symtab, t_.strtab, t_.gnu_hash, t_.hash, t_.versym, t_.verdef, t_.verneed}) {
      if (offset == 0) continue;
      lo = std::min(lo, offset);
      last = std::max(last, offset);
    }
    const uint64_t hi = std::min(
        size_, std::max(t_.strtab + t_.strsz,
                        last > size_ - std::min(size_, kTailSlack) ? size_ : last + kTailSlack));
    window_at_ = lo;
    window_size_ = hi > lo && hi - lo <= kMaxWindow ? hi - lo : 0;
    if (window_size_ != 0) read_at_(lo, {out_.window_.room(window_size_), window_size_});
    extras_used_ = 0;
  }

  // [offset, offset + length) of the file, checked: from the window, or
  // read on its own when it lies outside (a layout no linker makes).
  const std::byte* view(uint64_t offset, uint64_t length, const char* what) {
    check_range(offset, length, what);
    if (offset >= window_at_ && offset - window_at_ <= window_size_ &&
        length <= window_size_ - (offset - window_at_))
      return out_.window_.data() + (offset - window_at_);
    if (extras_used_ == out_.extras_.size())
      out_.extras_.emplace_back(out_.extras_.get_allocator().resource());
    std::byte* p = out_.extras_[extras_used_++].room(std::max<uint64_t>(length, 1));
    if (length != 0) read_at_(offset, {p, length});
    return p;
  }

  Table table(uint64_t offset, uint64_t length, const char* what) {
    return Table(view(offset, length, what), length, little_);
  }

  std::string string_at(uint64_t index, const char* what) const {
    if (index >= strings_size_) {
      fail(std::string(what) + " name offset " + std::to_string(index) +
           " is outside the dynamic string table (" + std::to_string(strings_size_) + " bytes)");
    }
    const char* p = strings_ + index;
    const void* nul = std::memchr(p, 0, strings_size_ - index);
    if (nul == nullptr) fail(std::string(what) + " name is not NUL-terminated");
    return std::string(p, static_cast<const char*>(nul));
  }

  // DT_GNU_HASH's buckets name the first symbol of each chain and a chain
  // ends at an entry with its low bit set, so the highest bucket's chain ends
  // at the last symbol. Its chain values are the names' hashes, kept for the
  // lookups that follow.
  uint64_t symbol_count(uint64_t entsize) {
    if (t_.gnu_hash != 0) return gnu_hash_count();
    if (t_.hash != 0) return table(t_.hash, 8, "DT_HASH header").get(4, 4);  // nchain
    // No hash table: no lookup can find these symbols, but the imports
    // count. GNU ld puts .dynstr right after .dynsym.
    return t_.strtab > t_.symtab ? (t_.strtab - t_.symtab) / entsize : 0;
  }

  uint64_t gnu_hash_count() {
    const Table header = table(t_.gnu_hash, 16, "DT_GNU_HASH header");
    const uint64_t nbuckets = header.get(0, 4), symoffset = header.get(4, 4);
    const uint64_t bloom_words = header.get(8, 4);
    const uint64_t buckets_at = t_.gnu_hash + 16 + bloom_words * (elf64_ ? 8 : 4);
    const Table buckets = table(buckets_at, nbuckets * 4, "DT_GNU_HASH buckets");
    uint32_t last = 0;
    for (uint64_t i = 0; i < nbuckets; ++i)
      last = std::max(last, load_ordered<uint32_t>(buckets.at(i * 4), little_));
    chain_at_ = buckets_at + nbuckets * 4;
    symoffset_ = symoffset;
    if (last == 0) return symoffset;  // no symbol is hashed
    if (last < symoffset)
      fail("DT_GNU_HASH bucket names symbol " + std::to_string(last) +
           ", below its first hashed symbol " + std::to_string(symoffset));
    // Walk the last chain to its end bit.
    for (uint64_t index = last;; ++index) {
      const uint64_t at = chain_at_ + (index - symoffset) * 4;
      if (table(at, 4, "DT_GNU_HASH chain").get(0, 4) & 1) return index + 1;
    }
  }

  void read_symbols(uint64_t count, uint64_t entsize) {
    if (count == 0) return;
    if (count > size_ / entsize) {
      fail("symbol table of " + std::to_string(count) + " entries is larger than the file");
    }
    out_.syms_ = view(t_.symtab, count * entsize, "dynamic symbol table");
    if (t_.versym != 0) out_.versym_ = view(t_.versym, count * 2, "DT_VERSYM table");
    // The hashes .gnu.hash holds for symbols from symoffset on.
    out_.symoffset_ = symoffset_;
    if (t_.gnu_hash != 0 && count > symoffset_)
      out_.chain_ = view(chain_at_, (count - symoffset_) * 4, "DT_GNU_HASH chain");
  }

  // Walks a vd_next / vn_next chain: entries at `offset`, each `entry` bytes,
  // at most `count` of them (the DT_*NUM tag), or kMaxVersions when the tag
  // is absent (the loaders follow the chain to a zero link).
  template <typename F>
  void walk_chain(uint64_t offset, uint64_t count, uint64_t entry, unsigned next_at,
                  const char* what, F&& visit) {
    const uint64_t limit = count != 0 ? count : kMaxVersions;
    if (limit > kMaxVersions)
      fail(std::string(what) + " claims " + std::to_string(count) + " entries");
    for (uint64_t n = 0;; ++n) {
      if (n == limit) {
        if (count != 0) return;
        fail(std::string(what) + " chain does not end within " + std::to_string(kMaxVersions) +
             " entries");
      }
      const Table e = table(offset, entry, what);
      visit(e, offset);
      const uint64_t next = e.get(next_at, 4);
      if (next == 0) return;
      offset += next;  // 32-bit steps on a 64-bit offset: no wrap-around
    }
  }

  void read_verdefs(std::vector<VersionDef>& defs) {
    walk_chain(t_.verdef, t_.verdefnum, kVerdefSize, 16, "DT_VERDEF",
               [&](const Table& e, uint64_t at) {
                 if (e.get(0, 2) != 1)
                   fail("unsupported DT_VERDEF entry version " + std::to_string(e.get(0, 2)));
                 VersionDef def;
                 def.flags = static_cast<uint16_t>(e.get(2, 2));
                 def.index = static_cast<uint16_t>(e.get(4, 2) & 0x7fff);
                 // The first auxiliary entry names the version; later ones its parents.
                 if (e.get(6, 2) != 0) {
                   const Table aux = table(at + e.get(12, 4), kVerdauxSize, "DT_VERDEF aux");
                   def.name = string_at(aux.get(0, 4), "DT_VERDEF");
                 }
                 defs.push_back(std::move(def));
               });
  }

  void read_verneeds(std::vector<VersionNeed>& needs) {
    walk_chain(t_.verneed, t_.verneednum, kVerneedSize, 12, "DT_VERNEED",
               [&](const Table& e, uint64_t at) {
                 if (e.get(0, 2) != 1)
                   fail("unsupported DT_VERNEED entry version " + std::to_string(e.get(0, 2)));
                 VersionNeed need;
                 need.file = string_at(e.get(4, 4), "DT_VERNEED file");
                 const uint64_t aux_count = e.get(2, 2);
                 if (aux_count != 0) {
                   walk_chain(at + e.get(8, 4), aux_count, kVernauxSize, 12, "DT_VERNEED aux",
                              [&](const Table& a, uint64_t) {
                                VersionNeed::Version v;
                                v.flags = static_cast<uint16_t>(a.get(4, 2));
                                v.index = static_cast<uint16_t>(a.get(6, 2) & 0x7fff);
                                v.name = string_at(a.get(8, 4), "DT_VERNEED");
                                need.versions.push_back(std::move(v));
                              });
                 }
                 needs.push_back(std::move(need));
               });
  }

  SymbolTable& out_;
  const DynamicTables& t_;
  uint64_t size_;
  const ReadAt& read_at_;
  const std::string& name_;
  bool little_, elf64_;
  uint64_t window_at_ = 0, window_size_ = 0;
  size_t extras_used_ = 0;
  uint64_t chain_at_ = 0, symoffset_ = 0, strings_size_ = 0;
  const char* strings_ = nullptr;
};

bool Symbol::exported() const {
  if (!defined) return false;
  const uint8_t b = binding(), t = type();
  if (b != kStbGlobal && b != kStbWeak && b != kStbGnuUnique) return false;
  if (t != kSttNotype && t != kSttObject && t != kSttFunc && t != kSttCommon && t != kSttTls &&
      t != kSttGnuIfunc)
    return false;
  return has_value || t == kSttTls;
}

uint32_t gnu_hash(std::string_view name) {
  uint32_t h = 5381;
  for (unsigned char c : name) h = h * 33 + c;
  return h;
}

Versions::Versions(std::vector<VersionDef> defs, std::vector<VersionNeed> needs)
    : defs_(std::move(defs)), needs_(std::move(needs)) {
  auto slot = [&](uint16_t index) -> int32_t& {
    if (by_index_.size() <= index) by_index_.resize(index + 1);
    return by_index_[index];
  };
  for (size_t i = 0; i < needs_.size(); ++i) {
    for (const auto& v : needs_[i].versions) slot(v.index) = -static_cast<int32_t>(i + 1);
  }
  // A definition wins over a need with the same (malformed) index.
  for (size_t i = 0; i < defs_.size(); ++i) slot(defs_[i].index) = static_cast<int32_t>(i + 1);
}

std::string_view Versions::name(uint16_t index) const {
  index &= 0x7fff;
  if (index <= kVerNdxGlobal || index >= by_index_.size() || by_index_[index] == 0) return {};
  const int32_t at = by_index_[index];
  if (at > 0) return defs_[at - 1].name;
  for (const auto& v : needs_[-at - 1].versions)
    if (v.index == index) return v.name;
  return {};
}

const VersionNeed* Versions::need_of(uint16_t index) const {
  index &= 0x7fff;
  if (index >= by_index_.size() || by_index_[index] >= 0) return nullptr;
  return &needs_[-by_index_[index] - 1];
}

std::vector<std::string> Versions::defined() const {
  std::vector<std::string> out;
  for (const auto& def : defs_)
    if (!(def.flags & kVerFlgBase)) out.push_back(def.name);
  return out;
}

bool Versions::defines(std::string_view version) const {
  return std::any_of(defs_.begin(), defs_.end(), [&](const VersionDef& d) {
    return !(d.flags & kVerFlgBase) && d.name == version;
  });
}

void SymbolTable::read(const ElfInfo& info, uint64_t size, const ReadAt& read_at,
                       const std::string& name) {
  SymbolReader(*this, info, size, read_at, name).read();
}

void SymbolTable::read(const ElfInfo& info, std::span<const std::byte> bytes,
                       const std::string& name) {
  const ReadAt read_at = [&](uint64_t offset, std::span<std::byte> out) {
    std::memcpy(out.data(), bytes.data() + offset, out.size());  // range checked by the reader
  };
  SymbolReader(*this, info, bytes.size(), read_at, name).read();
}

std::string_view SymbolTable::name(const Symbol& symbol) const {
  // A name outside the table reads as none (the loaders would fail on it, or
  // never look at it); a last name may run to the table's end.
  if (symbol.name >= strings_size_) return {};
  const char* p = strings_ + symbol.name;
  const void* nul = std::memchr(p, 0, strings_size_ - symbol.name);
  return {p, nul ? static_cast<size_t>(static_cast<const char*>(nul) - p)
                 : strings_size_ - symbol.name};
}

}  // namespace dslim::elf
