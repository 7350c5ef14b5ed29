// The light ELF reader: only what the dynamic loader reads, straight from the
// bytes, with every offset checked against the span (it runs on every
// candidate library of the resolver's walk and on hostile files).
#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "dslim/elf.hpp"
#include "dslim/error.hpp"
#include "elf/byte_view.hpp"
#include "elf/layout.hpp"

namespace dslim::elf {
namespace {

using detail::ByteView;

constexpr uint32_t kPtLoad = 1;
constexpr uint32_t kPtDynamic = 2;
constexpr uint32_t kPtInterp = 3;
constexpr uint16_t kPnXnum = 0xffff;  // e_phnum escape to section 0's sh_info

constexpr uint64_t kDtNull = 0;
constexpr uint64_t kDtNeeded = 1;
constexpr uint64_t kDtHash = 4;
constexpr uint64_t kDtStrtab = 5;
constexpr uint64_t kDtSymtab = 6;
constexpr uint64_t kDtStrsz = 10;
constexpr uint64_t kDtSyment = 11;
constexpr uint64_t kDtSoname = 14;
constexpr uint64_t kDtRpath = 15;
constexpr uint64_t kDtRunpath = 29;
constexpr uint64_t kDtGnuHash = 0x6ffffef5;
constexpr uint64_t kDtVersym = 0x6ffffff0;
constexpr uint64_t kDtFlags1 = 0x6ffffffb;
constexpr uint64_t kDtVerdef = 0x6ffffffc;
constexpr uint64_t kDtVerdefnum = 0x6ffffffd;
constexpr uint64_t kDtVerneed = 0x6ffffffe;
constexpr uint64_t kDtVerneednum = 0x6fffffff;

using detail::kLayout32;
using detail::kLayout64;
using detail::Layout;

struct Segment {
  uint32_t type;
  uint64_t offset, vaddr, filesz;
};

// A file offset inside a PT_LOAD and how many file bytes that segment has left.
struct Mapped {
  uint64_t offset, available;
};

// The dynamic section's scalar entries, gathered before any string is read
// (DT_STRTAB may come after the DT_NEEDED entries that need it).
struct DynamicScalars {
  std::optional<uint64_t> strtab, strsz;
  bool uses_strings = false;
  // The lowest and highest offsets of the strings named.
  uint64_t first_string = std::numeric_limits<uint64_t>::max(), last_string = 0;
  uint64_t flags_1 = 0;
  // The symbol and version tables' addresses and counts, as the tags say
  // (addresses are mapped to file offsets afterwards).
  DynamicTables tables;
};

// The most read ahead of need in one go, and how far past the last string's
// start its end is guessed to be.
constexpr uint64_t kMaxPreload = 16384;
constexpr uint64_t kStringSlack = 256;

// Fetches the few windows the loader reads (headers, dynamic segment,
// strings) through `read_at`, each once; ranges are checked before they are
// asked for.
class WindowSource : public detail::ByteSource {
 public:
  WindowSource(uint64_t size, const ReadAt& read_at) : size_(size), read_at_(read_at) {}
  uint64_t size() const override { return size_; }
  const std::byte* data(uint64_t offset, uint64_t length) const override {
    for (const auto& w : windows_) {
      if (offset >= w.offset && length <= w.size && offset - w.offset <= w.size - length)
        return w.bytes.get() + (offset - w.offset);
    }
    // The reader asks for whole tables up front (program headers, dynamic
    // segment, the span of the strings it will read), so a window is what
    // was asked for, no more: copying pages nobody reads showed up as a
    // twentieth of a resolver walk.
    constexpr uint64_t kMinWindow = 256;
    const uint64_t n = std::max(length, std::min(kMinWindow, size_ - offset));
    Window w{offset, n, std::make_unique_for_overwrite<std::byte[]>(n)};
    read_at_(offset, {w.bytes.get(), n});
    windows_.push_back(std::move(w));
    return windows_.back().bytes.get();
  }
  // The first bytes, for the magic and #! checks.
  std::span<const std::byte> head(uint64_t n) const {
    n = std::min(n, size_);
    return {n == 0 ? nullptr : data(0, n), n};
  }

 private:
  struct Window {
    uint64_t offset, size;
    std::unique_ptr<std::byte[]> bytes;
  };
  uint64_t size_;
  const ReadAt& read_at_;
  mutable std::vector<Window> windows_;
};

class Reader {
 public:
  // `head`: the file's first bytes (at least 256, or all of it), for the
  // magic and #! checks.
  Reader(const detail::ByteSource& source, std::span<const std::byte> head, const std::string& name)
      : head_(head), view_(source, true), source_(source), name_(name) {}

  ElfInfo read() {
    read_ident();
    read_header();
    read_segments();
    return std::move(info_);
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw Error(name_ + ": " + what); }

  // The one message for any structure reaching past the end of the bytes;
  // `what` names it with its verb ("program headers end").
  void require(uint64_t offset, uint64_t length, const char* what) const {
    if (view_.contains(offset, length)) return;
    const uint64_t max = std::numeric_limits<uint64_t>::max();
    const std::string end = length > max - offset ? "beyond 2^64" : std::to_string(offset + length);
    fail(std::string("truncated ELF file (") + what + " at " + end + ", file is " +
         std::to_string(view_.size()) + " bytes)");
  }

  uint64_t uint(uint64_t offset, unsigned width, const char* what) const {
    uint64_t value = 0;
    if (!view_.read(offset, width, value)) require(offset, width, what);
    return value;
  }

  void read_ident() {
    if (view_.size() == 0) fail("not an ELF file (empty file)");
    if (auto interp = script_interpreter(head_))
      fail("is a script (#!" + *interp + "), not an ELF file");
    if (!has_elf_magic(head_)) fail("not an ELF file");
    require(0, 16, "ELF identification ends");
    const auto cls = uint(4, 1, "ELF identification ends");
    const auto data = uint(5, 1, "ELF identification ends");
    const auto version = uint(6, 1, "ELF identification ends");
    if (cls != 1 && cls != 2) fail("unsupported ELF class " + std::to_string(cls));
    if (data != 1 && data != 2) fail("unsupported ELF data encoding " + std::to_string(data));
    if (version != 1) fail("unsupported ELF version " + std::to_string(version));
    info_.elf_class = cls == 1 ? ElfClass::Elf32 : ElfClass::Elf64;
    info_.little_endian = data == 1;
    info_.osabi = static_cast<uint8_t>(uint(7, 1, "ELF identification ends"));
    layout_ = cls == 1 ? &kLayout32 : &kLayout64;
    view_ = ByteView(source_, info_.little_endian);
  }

  void read_header() {
    require(0, layout_->ehdr_size, "ELF header ends");
    info_.type = static_cast<ObjectType>(uint(16, 2, "ELF header ends"));
    info_.machine = static_cast<uint16_t>(uint(18, 2, "ELF header ends"));
    phoff_ = uint(layout_->phoff_at, layout_->word, "ELF header ends");
    phnum_ = static_cast<uint16_t>(uint(layout_->phnum_at, 2, "ELF header ends"));
    if (phnum_ == 0) return;
    if (phnum_ == kPnXnum)
      fail("extended program header numbering (e_phnum 0xffff) is not supported");
    const auto entsize = uint(layout_->phentsize_at, 2, "ELF header ends");
    if (entsize != layout_->phdr_size) {
      fail("program header entry size is " + std::to_string(entsize) + ", expected " +
           std::to_string(layout_->phdr_size));
    }
    // phnum < 2^16 and entsize < 2^16, so the product cannot overflow.
    require(phoff_, phnum_ * layout_->phdr_size, "program headers end");
    view_.preload(phoff_, phnum_ * layout_->phdr_size);
  }

  Segment segment(uint16_t index) const {
    const uint64_t at = phoff_ + index * layout_->phdr_size;
    const unsigned w = layout_->word;
    return Segment{static_cast<uint32_t>(uint(at, 4, "program headers end")),
                   uint(at + layout_->p_offset_at, w, "program headers end"),
                   uint(at + layout_->p_vaddr_at, w, "program headers end"),
                   uint(at + layout_->p_filesz_at, w, "program headers end")};
  }

  void read_segments() {
    std::optional<Segment> dynamic;
    for (uint16_t i = 0; i < phnum_; ++i) {
      const Segment s = segment(i);
      // The kernel honours the first PT_INTERP; glibc and musl keep the last PT_DYNAMIC.
      if (s.type == kPtInterp && !info_.interpreter) read_interp(s);
      if (s.type == kPtDynamic) dynamic = s;
    }
    if (dynamic) read_dynamic(*dynamic);
  }

  void read_interp(const Segment& s) {
    require(s.offset, s.filesz, "PT_INTERP ends");
    const uint64_t end = s.offset + s.filesz;
    const uint64_t nul = view_.find_nul(s.offset, end);
    if (nul == end) fail("PT_INTERP is not NUL-terminated");
    info_.interpreter = view_.string(s.offset, nul - s.offset);
  }

  // Virtual address to file offset through the PT_LOAD segment holding it.
  std::optional<Mapped> map_address(uint64_t address) const {
    for (uint16_t i = 0; i < phnum_; ++i) {
      const Segment s = segment(i);
      if (s.type != kPtLoad || address < s.vaddr || address - s.vaddr >= s.filesz) continue;
      const uint64_t delta = address - s.vaddr;
      if (s.offset > std::numeric_limits<uint64_t>::max() - delta) continue;
      return Mapped{s.offset + delta, s.filesz - delta};
    }
    return std::nullopt;
  }

  uint64_t dyn_tag(uint64_t at) const { return uint(at, layout_->word, "dynamic segment ends"); }
  uint64_t dyn_val(uint64_t at) const {
    return uint(at + layout_->word, layout_->word, "dynamic segment ends");
  }

  void read_dynamic(const Segment& s) {
    info_.has_dynamic = true;
    require(s.offset, s.filesz, "dynamic segment ends");
    dyn_begin_ = s.offset;
    // Bounded by the segment's size; DT_NULL usually ends it earlier.
    dyn_count_ = s.filesz / layout_->dyn_size;
    // Read on demand past the first pages: a hostile PT_DYNAMIC may claim the whole file.
    view_.preload(s.offset, std::min<uint64_t>(s.filesz, kMaxPreload));
    const DynamicScalars scalars = scan_scalars();
    info_.flags_1 = scalars.flags_1;
    map_tables(scalars);
    if (!scalars.uses_strings) return;
    locate_strtab(scalars);
    if (scalars.last_string >= scalars.first_string && scalars.first_string < strsz_) {
      // One read for the strings the loader needs: they sit close together
      // (a string running past the span is fetched on demand).
      const uint64_t span = std::min(scalars.last_string - scalars.first_string + kStringSlack,
                                     strsz_ - scalars.first_string);
      if (span <= kMaxPreload) view_.preload(strtab_ + scalars.first_string, span);
    }
    read_strings();
  }

  template <typename F>
  void for_each_dyn(F&& f) const {
    for (uint64_t i = 0; i < dyn_count_; ++i) {
      const uint64_t at = dyn_begin_ + i * layout_->dyn_size;
      const uint64_t tag = dyn_tag(at);
      if (tag == kDtNull) break;
      f(tag, at);
    }
  }

  DynamicScalars scan_scalars() const {
    DynamicScalars d;
    // Later entries win, as in the loaders' l_info[tag] = dyn.
    for_each_dyn([&](uint64_t tag, uint64_t at) {
      switch (tag) {
        case kDtStrtab:
          d.strtab = dyn_val(at);
          break;
        case kDtStrsz:
          d.strsz = dyn_val(at);
          break;
        case kDtFlags1:
          d.flags_1 = dyn_val(at);
          break;
        case kDtSymtab:
          d.tables.symtab = dyn_val(at);
          break;
        case kDtSyment:
          d.tables.syment = dyn_val(at);
          break;
        case kDtHash:
          d.tables.hash = dyn_val(at);
          break;
        case kDtGnuHash:
          d.tables.gnu_hash = dyn_val(at);
          break;
        case kDtVersym:
          d.tables.versym = dyn_val(at);
          break;
        case kDtVerdef:
          d.tables.verdef = dyn_val(at);
          break;
        case kDtVerdefnum:
          d.tables.verdefnum = dyn_val(at);
          break;
        case kDtVerneed:
          d.tables.verneed = dyn_val(at);
          break;
        case kDtVerneednum:
          d.tables.verneednum = dyn_val(at);
          break;
        case kDtNeeded:
        case kDtSoname:
        case kDtRpath:
        case kDtRunpath: {
          d.uses_strings = true;
          const uint64_t index = dyn_val(at);
          d.first_string = std::min(d.first_string, index);
          d.last_string = std::max(d.last_string, index);
          break;
        }
        default:
          break;
      }
    });
    return d;
  }

  // The symbol tables' addresses as file offsets, for read_symbol_table. An
  // address no PT_LOAD holds is recorded, not an error here: the walk needs
  // only the strings, and the symbol reader names the bad tag.
  void map_tables(const DynamicScalars& d) {
    DynamicTables& t = info_.tables;
    t = d.tables;
    auto map = [&](uint64_t& address) {
      if (address == 0) return;
      const auto mapped = map_address(address);
      address = mapped ? mapped->offset : DynamicTables::kUnmapped;
    };
    if (d.strtab) t.strtab = *d.strtab;
    t.strsz = d.strsz.value_or(0);
    for (uint64_t* address :
         {&t.strtab, &t.symtab, &t.hash, &t.gnu_hash, &t.versym, &t.verdef, &t.verneed})
      map(*address);
    // Without DT_STRSZ the table reaches no further than its segment's bytes.
    if (d.strtab && !d.strsz && t.strtab != DynamicTables::kUnmapped)
      t.strsz = map_address(*d.strtab)->available;
  }

  void locate_strtab(const DynamicScalars& d) {
    if (!d.strtab) fail("dynamic section names libraries or paths but has no DT_STRTAB");
    const auto mapped = map_address(*d.strtab);
    if (!mapped)
      fail("DT_STRTAB address " + detail::hex(*d.strtab) + " is not inside any PT_LOAD segment");
    strtab_ = mapped->offset;
    // Without DT_STRSZ the table can reach no further than its segment's file bytes.
    strsz_ = d.strsz.value_or(mapped->available);
    require(strtab_, strsz_, "dynamic string table ends");
  }

  std::string string_at(uint64_t index, const char* tag) const {
    if (index >= strsz_) {
      fail(std::string(tag) + " string offset " + std::to_string(index) +
           " is outside the dynamic string table (" + std::to_string(strsz_) + " bytes)");
    }
    const uint64_t end = strtab_ + strsz_;
    const uint64_t nul = view_.find_nul(strtab_ + index, end);
    if (nul == end)
      fail(std::string(tag) + " string at offset " + std::to_string(index) +
           " is not NUL-terminated");
    return view_.string(strtab_ + index, nul - strtab_ - index);
  }

  void read_strings() {
    for_each_dyn([&](uint64_t tag, uint64_t at) {
      switch (tag) {
        case kDtNeeded:
          info_.needed.push_back(string_at(dyn_val(at), "DT_NEEDED"));
          break;
        case kDtSoname:
          info_.soname = string_at(dyn_val(at), "DT_SONAME");
          break;
        case kDtRpath:
          info_.rpath = string_at(dyn_val(at), "DT_RPATH");
          break;
        case kDtRunpath:
          info_.runpath = string_at(dyn_val(at), "DT_RUNPATH");
          break;
        default:
          break;
      }
    });
  }

  std::span<const std::byte> head_;
  ByteView view_;
  const detail::ByteSource& source_;
  const std::string& name_;
  const Layout* layout_ = &kLayout64;
  ElfInfo info_;
  uint64_t phoff_ = 0;
  uint16_t phnum_ = 0;
  uint64_t dyn_begin_ = 0, dyn_count_ = 0;
  uint64_t strtab_ = 0, strsz_ = 0;
};

}  // namespace

bool has_elf_magic(std::span<const std::byte> bytes) {
  static constexpr std::array<unsigned char, 4> kMagic{0x7f, 'E', 'L', 'F'};
  return bytes.size() >= kMagic.size() && std::memcmp(bytes.data(), kMagic.data(), 4) == 0;
}

ElfInfo read_elf(std::span<const std::byte> bytes, const std::string& name) {
  const detail::SpanSource source(bytes);
  return Reader(source, bytes, name).read();
}

ElfInfo read_elf(uint64_t size, const ReadAt& read_at, const std::string& name) {
  const WindowSource source(size, read_at);
  // Linux reads at most 256 bytes of a #! line (BINPRM_BUF_SIZE); 1 KiB
  // also holds the ELF header and up to 17 program headers in one read.
  source.head(1024);
  return Reader(source, source.head(256), name).read();
}

}  // namespace dslim::elf
