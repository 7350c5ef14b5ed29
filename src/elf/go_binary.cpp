// The Go reader: function names from the pclntab and the toolchain version
// from the build info. Layouts from Go's src/debug/gosym/pclntab.go,
// src/runtime/symtab.go and src/debug/buildinfo/buildinfo.go. Every offset
// the tables hold is checked against the bytes read (hostile files are the
// norm: user binaries and whatever an image ships).
#include "dslim/go_binary.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dslim/elf_sections.hpp"
#include "dslim/error.hpp"
#include "elf/byte_view.hpp"

namespace dslim::elf {
namespace {

using detail::ByteView;
using detail::SpanSource;

// pclntab magics (the first four bytes, in the file's byte order).
constexpr uint32_t kGo12Magic = 0xfffffffb;   // Go 1.2-1.15
constexpr uint32_t kGo116Magic = 0xfffffffa;  // Go 1.16-1.17
constexpr uint32_t kGo118Magic = 0xfffffff0;  // Go 1.18-1.19
constexpr uint32_t kGo120Magic = 0xfffffff1;  // Go 1.20+ (same layout as 1.18)
constexpr std::array<uint32_t, 4> kMagics{kGo12Magic, kGo116Magic, kGo118Magic, kGo120Magic};

enum class Format { Go12, Go116, Go118 };

constexpr std::array<unsigned char, 4> kElfMagic{0x7f, 'E', 'L', 'F'};
constexpr std::string_view kBuildInfoMagic("\xff Go buildinf:", 14);
constexpr uint64_t kBuildInfoHeader = 32;
constexpr uint64_t kBuildInfoAlign = 16;
// Go's debug/buildinfo looks this far into the data segment when there is no
// .go.buildinfo section.
constexpr uint64_t kBuildInfoSearch = 64 << 10;
// "go1.19.8", "devel go1.22-5f3b1c2 Tue ...": far below this; more is not a version.
constexpr uint64_t kMaxVersion = 1024;
// The tables and segments are read through one buffer of at most this size
// each, reused for each next window: they run to megabytes, and on a VM a
// fresh page costs about as much as copying ten from the page cache.
constexpr uint64_t kWindow = 256 << 10;
// How many pclntab headers the scan parses before it gives up.
constexpr unsigned kMaxCandidates = 8;

struct Buffer {
  std::unique_ptr<std::byte[]> bytes;
  uint64_t size = 0;
  std::span<const std::byte> span() const { return {bytes.get(), size}; }
  const char* chars() const { return reinterpret_cast<const char*>(bytes.get()); }
};

// The file range holding a pclntab: from its header to where it may end (the
// section's end, or the end of the segment it was found in).
struct Region {
  uint64_t offset = 0, size = 0;
};

// What the header says, as offsets from the pclntab's start.
struct Header {
  Format format = Format::Go118;
  bool little = true;
  unsigned ptrsize = 8;
  uint64_t nfunc = 0;
  uint64_t functab = 0;     // the function table: nfunc (entry, funcoff) pairs and an end entry
  unsigned field = 4;       // size of a function table field
  uint64_t funcdata = 0;    // what a funcoff counts from
  uint64_t names = 0;       // what a nameoff counts from
  uint64_t names_end = 0;   // where the names end
  unsigned nameoff_at = 4;  // _func.nameoff's offset in a _func
};

// Reads, each checked against the file's size first.
class File {
 public:
  File(uint64_t size, const ReadAt& read_at, const std::string& name)
      : size_(size), read_at_(read_at), name_(name) {}

  uint64_t size() const { return size_; }
  const std::string& name() const { return name_; }
  [[noreturn]] void fail(const std::string& what) const { throw Error(name_ + ": " + what); }

  bool inside(uint64_t offset, uint64_t length) const {
    return offset <= size_ && length <= size_ - offset;
  }

  Buffer read(uint64_t offset, uint64_t length) const {
    if (!inside(offset, length)) {
      fail("read of " + std::to_string(length) + " bytes at " + std::to_string(offset) +
           " reaches past the end of the file (" + std::to_string(size_) + " bytes)");
    }
    Buffer b{std::make_unique_for_overwrite<std::byte[]>(length), length};
    if (length != 0) read_at_(offset, {b.bytes.get(), length});
    return b;
  }
  // Reads `length` bytes into the start of `into`, which is at least that large.
  void read_into(uint64_t offset, Buffer& into, uint64_t length) const {
    if (!inside(offset, length) || length > into.size) {
      fail("read of " + std::to_string(length) + " bytes at " + std::to_string(offset) +
           " reaches past the end of the file (" + std::to_string(size_) + " bytes)");
    }
    if (length != 0) read_at_(offset, {into.bytes.get(), length});
  }

 private:
  uint64_t size_;
  const ReadAt& read_at_;
  const std::string& name_;
};

uint64_t get(const ByteView& view, uint64_t at, unsigned width) {
  uint64_t v = 0;
  view.read(at, width, v);  // callers check ranges; out of range reads 0
  return v;
}

// A forward-moving window over part of a pclntab, read through one buffer.
class Window {
 public:
  // [begin, end): the file range the window moves over.
  Window(const File& file, uint64_t begin, uint64_t end, Buffer& buffer)
      : file_(file), begin_(begin), end_(end), buffer_(buffer) {}

  uint64_t size() const { return end_ - begin_; }

  // [offset, offset + length) from `begin`; the caller has checked that it
  // lies in the range and is no longer than the buffer.
  const unsigned char* at(uint64_t offset, uint64_t length) {
    if (!loaded_ || offset < start_ || offset - start_ > count_ ||
        length > count_ - (offset - start_))
      load(offset);
    return reinterpret_cast<const unsigned char*>(buffer_.bytes.get()) + (offset - start_);
  }
  // The bytes from `offset` to the end of what is loaded (at() first).
  uint64_t loaded_after(uint64_t offset) const { return start_ + count_ - offset; }
  // Whether the window reaches the range's end.
  bool at_end() const { return start_ + count_ == size(); }
  // Loads from `offset` (for a string running past the window's end).
  void load(uint64_t offset) {
    count_ = std::min(buffer_.size, size() - offset);
    file_.read_into(begin_ + offset, buffer_, count_);
    start_ = offset;
    loaded_ = true;
  }

 private:
  const File& file_;
  uint64_t begin_, end_;
  Buffer& buffer_;
  uint64_t start_ = 0, count_ = 0;
  bool loaded_ = false;
};

class PclnReader {
 public:
  PclnReader(const File& file, Region region, bool elf_little, unsigned elf_ptrsize)
      : file_(file), region_(region), elf_little_(elf_little), elf_ptrsize_(elf_ptrsize) {}

  // The sorted, unique function names; throws dslim::Error when the table is
  // malformed.
  std::vector<std::string> functions() {
    read_header();
    // Every window lies in the region, and every read asks for at most 16 bytes.
    const uint64_t window = std::min(kWindow, region_.size);
    buffer_ = {std::make_unique_for_overwrite<std::byte[]>(window), window};
    std::vector<uint64_t> funcoffs = function_offsets();
    const std::vector<uint32_t> nameoffs = name_offsets(funcoffs);
    return names(nameoffs);
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    file_.fail("malformed Go pclntab (" + what + ")");
  }

  // A window over [begin, end) of the pclntab, which must lie in the region.
  Window window(uint64_t begin, uint64_t end) {
    if (begin > end || end > region_.size) {
      fail("table at " + std::to_string(begin) + ".." + std::to_string(end) + " is outside the " +
           std::to_string(region_.size) + " bytes of the pclntab");
    }
    return Window(file_, region_.offset + begin, region_.offset + end, buffer_);
  }

  void read_header() {
    if (region_.size < 16) fail("header of " + std::to_string(region_.size) + " bytes");
    const Buffer head = file_.read(region_.offset, std::min<uint64_t>(region_.size, 8 + 8 * 8));
    const auto* p = reinterpret_cast<const unsigned char*>(head.bytes.get());
    Header& h = header_;
    const SpanSource source(head.span());
    const ByteView le(source, true), be(source, false);
    const uint64_t le_magic = get(le, 0, 4), be_magic = get(be, 0, 4);
    bool known = false;
    for (const uint32_t magic : kMagics) {
      if (le_magic == magic || be_magic == magic) {
        known = true;
        h.little = le_magic == magic;
        h.format = magic == kGo12Magic    ? Format::Go12
                   : magic == kGo116Magic ? Format::Go116
                                          : Format::Go118;
      }
    }
    if (!known) fail("unknown magic " + detail::hex(le_magic));
    if (p[4] != 0 || p[5] != 0) fail("header padding is not zero");
    if (p[6] != 1 && p[6] != 2 && p[6] != 4) fail("pc quantum " + std::to_string(p[6]));
    if (p[7] != 4 && p[7] != 8) fail("pointer size " + std::to_string(p[7]));
    // A table of another byte order or pointer size than its file is not the
    // runtime's (and, scanning, not a pclntab at all).
    if (h.little != elf_little_) fail("byte order differs from the ELF file's");
    if (p[7] != elf_ptrsize_) fail("pointer size differs from the ELF file's");
    h.ptrsize = p[7];
    const ByteView view(source, h.little);
    const auto word = [&](unsigned i) {
      const uint64_t at = 8 + i * h.ptrsize;
      if (at + h.ptrsize > head.size) fail("header ends early");
      return get(view, at, h.ptrsize);
    };
    h.nfunc = word(0);
    switch (h.format) {
      case Format::Go12:
        // nfunc, then the function table; funcoffs and nameoffs count from
        // the start, names and records interleaved to the table's end.
        h.functab = 8 + h.ptrsize;
        h.field = h.ptrsize;
        h.funcdata = 0;
        h.names = 0;
        h.names_end = region_.size;
        h.nameoff_at = h.ptrsize;
        break;
      case Format::Go116:
      case Format::Go118: {
        // nfunc, nfiles, [textStart,] funcnameOffset, cuOffset, filetabOffset,
        // pctabOffset, pclnOffset: the tables in that order.
        const unsigned first = h.format == Format::Go116 ? 2 : 3;
        uint64_t previous = 8 + (first + 5) * h.ptrsize;
        for (unsigned i = first; i < first + 5; ++i) {
          const uint64_t offset = word(i);
          if (offset < previous || offset > region_.size) fail("table offsets out of order");
          previous = offset;
        }
        h.names = word(first);
        h.names_end = word(first + 1);
        h.funcdata = word(first + 4);
        h.functab = h.funcdata;
        h.field = h.format == Format::Go116 ? h.ptrsize : 4;
        h.nameoff_at = h.format == Format::Go116 ? h.ptrsize : 4;
        break;
      }
    }
    // The table and its end entry must fit: this also bounds nfunc by the file's size.
    const uint64_t room = region_.size - std::min(region_.size, h.functab);
    const uint64_t fields = room / h.field;
    if (h.nfunc == 0) fail("no functions");
    if (fields == 0 || h.nfunc > (fields - 1) / 2) {
      fail(std::to_string(h.nfunc) + " functions do not fit in " + std::to_string(room) + " bytes");
    }
  }

  // Each function's record offset, from the function table.
  std::vector<uint64_t> function_offsets() {
    const unsigned field = header_.field;
    Window table = window(header_.functab, header_.functab + 2 * header_.nfunc * field);
    const bool little = header_.little;
    std::vector<uint64_t> out(header_.nfunc);
    uint64_t previous_entry = 0;
    for (uint64_t i = 0; i < header_.nfunc; ++i) {
      const unsigned char* p = table.at(2 * i * field, 2 * field);
      // From Go 1.18 the entries are text offsets, which need no relocating,
      // so they can be checked (older ones are addresses, zero in a PIE's file).
      const uint64_t entry = load(p, field, little);
      if (header_.format == Format::Go118 && entry < previous_entry)
        fail("function table is not sorted");
      previous_entry = entry;
      out[i] = load(p + field, field, little);
    }
    return out;
  }

  // Each function's nameoff, from its _func record, sorted and unique.
  std::vector<uint32_t> name_offsets(std::vector<uint64_t>& funcoffs) {
    // Records in file order, so the window only moves forward (they are
    // usually in that order already).
    std::sort(funcoffs.begin(), funcoffs.end());
    const uint64_t base = header_.funcdata, tail = header_.nameoff_at + 4;
    Window records = window(base, region_.size);
    if (funcoffs.back() > records.size() || tail > records.size() - funcoffs.back())
      fail("function record at " + std::to_string(funcoffs.back()) + " is outside the table");
    std::vector<uint32_t> out(funcoffs.size());
    for (size_t i = 0; i < funcoffs.size(); ++i)
      out[i] = static_cast<uint32_t>(
          load(records.at(funcoffs[i] + header_.nameoff_at, 4), 4, header_.little));
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

  std::vector<std::string> names(const std::vector<uint32_t>& nameoffs) {
    Window table = window(header_.names, header_.names_end);
    if (nameoffs.back() >= table.size()) {
      fail("function name offset " + std::to_string(nameoffs.back()) +
           " is outside the name table (" + std::to_string(table.size()) + " bytes)");
    }
    std::vector<std::string> out;
    out.reserve(nameoffs.size());
    // Names do not overlap (the linker writes each once): a table whose
    // names did could make its copies quadratic in its size.
    uint64_t free_from = 0;
    for (const uint32_t off : nameoffs) {
      if (off < free_from) fail("function names overlap at " + std::to_string(off));
      const auto* s = reinterpret_cast<const char*>(table.at(off, 1));
      const void* nul = std::memchr(s, 0, table.loaded_after(off));
      if (nul == nullptr && !table.at_end()) {
        // The name runs past the window: move the window to it.
        table.load(off);
        s = reinterpret_cast<const char*>(table.at(off, 1));
        nul = std::memchr(s, 0, table.loaded_after(off));
      }
      if (nul == nullptr) fail("function name at " + std::to_string(off) + " has no end");
      if (nul != s) out.emplace_back(s, static_cast<const char*>(nul));
      free_from = off + (static_cast<const char*>(nul) - s) + 1;
    }
    // Go 1.16+ shares one copy of each name; older tables may repeat one.
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

  static uint64_t load(const unsigned char* p, unsigned width, bool little) {
    return detail::load_uint(reinterpret_cast<const std::byte*>(p), width, little);
  }

  const File& file_;
  Region region_;
  bool elf_little_;
  unsigned elf_ptrsize_;
  Header header_;
  Buffer buffer_;
};

// The ELF file's own facts the Go reader needs beyond its tables.
struct Ident {
  bool little = true;
  unsigned ptrsize = 8;
};

class GoReader {
 public:
  GoReader(const File& file, Ident ident, std::vector<Section> sections,
           std::vector<Segment> segments)
      : file_(file),
        ident_(ident),
        sections_(std::move(sections)),
        segments_(std::move(segments)) {}

  std::optional<GoBinary> read() {
    std::optional<std::vector<std::string>> functions;
    if (const Section* s = section_with_bytes({".gopclntab", ".data.rel.ro.gopclntab"})) {
      functions =
          PclnReader(file_, {s->offset, s->size}, ident_.little, ident_.ptrsize).functions();
    } else if (sections_.empty() || names_go()) {
      std::optional<Error> first_error;
      functions = scan(first_error);
      // Only sections naming Go make a failed scan an error: a file
      // without section headers may well be a C program.
      if (!functions && !sections_.empty()) {
        if (first_error) throw *first_error;
        file_.fail("has Go sections but no pclntab in its segments");
      }
    }
    if (!functions) return std::nullopt;
    GoBinary out;
    out.functions = std::move(*functions);
    out.version = version();
    return out;
  }

 private:
  const Section* section_with_bytes(std::initializer_list<std::string_view> names) const {
    for (const auto& s : sections_) {
      if (s.type == Section::kNobits || s.type == Section::kNull) continue;
      if (std::find(names.begin(), names.end(), s.name) != names.end()) return &s;
    }
    return nullptr;
  }

  // Scanning every segment is worth it only where Go is likely: a C
  // program's sections never name Go (an ELF file with no section headers
  // at all could be either, and is scanned too).
  bool names_go() const {
    return std::any_of(sections_.begin(), sections_.end(), [](const Section& s) {
      return s.name == ".go.buildinfo" || s.name == ".note.go.buildid" || s.name == ".gosymtab" ||
             s.name == ".data.rel.ro.gosymtab";
    });
  }

  // The first valid pclntab in the PT_LOAD segments: non-executable ones
  // first (an external linker puts it in .data.rel.ro), then the others
  // (very old Go had it with the code). A candidate that fails to parse is
  // passed over, its error kept in `first_error`. Each costs reads of up to
  // the rest of its segment, so only a few are tried: real files have one.
  std::optional<std::vector<std::string>> scan(std::optional<Error>& first_error) const {
    unsigned tries = 0;
    for (const bool exec : {false, true}) {
      for (const auto& seg : segments_) {
        if (seg.type != Segment::kLoad || ((seg.flags & Segment::kExec) != 0) != exec) continue;
        if (auto found = scan_segment(seg, tries, first_error)) return found;
        if (tries == kMaxCandidates) return std::nullopt;
      }
    }
    return std::nullopt;
  }

  std::optional<std::vector<std::string>> scan_segment(const Segment& seg, unsigned& tries,
                                                       std::optional<Error>& first_error) const {
    // The magics as they appear in memory when loaded from the file's bytes.
    std::array<uint32_t, kMagics.size()> wanted{};
    for (size_t i = 0; i < kMagics.size(); ++i) wanted[i] = file_order(kMagics[i]);
    const uint64_t end = seg.offset + seg.filesz;  // read_segments checked it is in the file
    // The table is at least 4-byte aligned in memory, and a segment's file
    // offset and address agree modulo its alignment.
    uint64_t pos = seg.offset + ((4 - seg.vaddr % 4) % 4);
    if (pos + 8 > end) return std::nullopt;
    const uint64_t window = std::min(kWindow, end - pos);
    Buffer chunk{std::make_unique_for_overwrite<std::byte[]>(window), window};
    while (pos + 8 <= end) {
      const uint64_t n = std::min(window, end - pos);
      file_.read_into(pos, chunk, n);
      const auto* p = reinterpret_cast<const unsigned char*>(chunk.bytes.get());
      for (uint64_t i = 0; i + 8 <= n; i += 4) {
        uint32_t v;
        std::memcpy(&v, p + i, 4);
        if (std::find(wanted.begin(), wanted.end(), v) == wanted.end()) continue;
        // The header's fixed bytes, before the costlier parse.
        if (p[i + 4] != 0 || p[i + 5] != 0 || p[i + 7] != ident_.ptrsize) continue;
        if (p[i + 6] != 1 && p[i + 6] != 2 && p[i + 6] != 4) continue;
        try {
          return PclnReader(file_, {pos + i, end - pos - i}, ident_.little, ident_.ptrsize)
              .functions();
        } catch (const Error& e) {
          if (!first_error) first_error = e;
        }
        if (++tries == kMaxCandidates) return std::nullopt;
      }
      // The next chunk starts where this one's last full candidate ended.
      pos += n < 8 ? n : (n - 8) / 4 * 4 + 4;
    }
    return std::nullopt;
  }

  uint32_t file_order(uint32_t v) const {
    unsigned char b[4];
    for (int i = 0; i < 4; ++i)
      b[i] = static_cast<unsigned char>(v >> (8 * (ident_.little ? i : 3 - i)));
    uint32_t out;
    std::memcpy(&out, b, 4);
    return out;
  }

  // The Go version from the build info, "" when there is none to be read.
  std::string version() const {
    if (const Section* s = section_with_bytes({".go.buildinfo"})) {
      if (s->size < kBuildInfoHeader)
        fail_build_info("section of " + std::to_string(s->size) + " bytes");
      // The header and a version of usual length in one read.
      const Buffer head = file_.read(s->offset, std::min<uint64_t>(s->size, kBuildInfoHeader + 64));
      if (std::string_view(head.chars(), kBuildInfoMagic.size()) != kBuildInfoMagic)
        fail_build_info("no magic");
      return decode_build_info(head, s->offset, s->offset + s->size);
    }
    // Without the section Go's own reader looks at the start of the first
    // writable, non-executable segment.
    for (const auto& seg : segments_) {
      if (seg.type != Segment::kLoad ||
          (seg.flags & (Segment::kExec | Segment::kWrite)) != Segment::kWrite)
        continue;
      const Buffer data = file_.read(seg.offset, std::min(seg.filesz, kBuildInfoSearch));
      const std::string_view text(data.chars(), data.size);
      for (size_t at = text.find(kBuildInfoMagic); at != std::string_view::npos;
           at = text.find(kBuildInfoMagic, at + 1)) {
        if ((seg.vaddr + at) % kBuildInfoAlign != 0 || data.size - at < kBuildInfoHeader) continue;
        const uint64_t start = seg.offset + at;
        const Buffer head =
            file_.read(start, std::min<uint64_t>(seg.filesz - at, kBuildInfoHeader + 64));
        return decode_build_info(head, start, seg.offset + seg.filesz);
      }
      break;
    }
    return "";
  }

  [[noreturn]] void fail_build_info(const std::string& what) const {
    file_.fail("malformed Go build info (" + what + ")");
  }

  // `head`: the first bytes of the build info at file offset `start`; it may
  // reach no further than `end`.
  std::string decode_build_info(const Buffer& head, uint64_t start, uint64_t end) const {
    const auto* p = reinterpret_cast<const unsigned char*>(head.bytes.get());
    const unsigned ptrsize = p[14], flags = p[15];
    if ((flags & 2) != 0) {
      // Go 1.18+: the version inline after the header, uvarint-prefixed.
      uint64_t length = 0, at = kBuildInfoHeader;
      for (unsigned shift = 0;; shift += 7) {
        if (at >= head.size || shift > 63) fail_build_info("version length has no end");
        const unsigned char b = p[at++];
        length |= static_cast<uint64_t>(b & 0x7f) << shift;
        if ((b & 0x80) == 0) break;
      }
      if (length > kMaxVersion) fail_build_info("version of " + std::to_string(length) + " bytes");
      if (length > end - start - at) fail_build_info("version runs past its section");
      if (length <= head.size - at) return std::string(head.chars() + at, length);
      const Buffer rest = file_.read(start + at, length);
      return std::string(rest.chars(), length);
    }
    // Before Go 1.18: the address of runtime.buildVersion, a Go string
    // {data, len}. In a PIE the addresses are relocations, absent from the
    // file: then the version is unknown, not an error.
    if (ptrsize != 4 && ptrsize != 8) fail_build_info("pointer size " + std::to_string(ptrsize));
    const SpanSource source(head.span());
    const ByteView view(source, flags == 0);
    const uint64_t string_header = get(view, 16, ptrsize);
    const auto header_at = map(string_header, 2 * ptrsize);
    if (!header_at) return "";
    const Buffer hdr = file_.read(*header_at, 2 * ptrsize);
    const SpanSource hdr_source(hdr.span());
    const ByteView hdr_view(hdr_source, flags == 0);
    const uint64_t data = get(hdr_view, 0, ptrsize), length = get(hdr_view, ptrsize, ptrsize);
    if (length > kMaxVersion) return "";
    const auto data_at = map(data, length);
    if (!data_at) return "";
    const Buffer text = file_.read(*data_at, length);
    return std::string(text.chars(), length);
  }

  // The file offset of [address, address + length) when one PT_LOAD's file bytes hold it.
  std::optional<uint64_t> map(uint64_t address, uint64_t length) const {
    for (const auto& seg : segments_) {
      if (seg.type != Segment::kLoad || address < seg.vaddr) continue;
      const uint64_t delta = address - seg.vaddr;
      if (delta <= seg.filesz && length <= seg.filesz - delta) return seg.offset + delta;
    }
    return std::nullopt;
  }

  const File& file_;
  Ident ident_;
  std::vector<Section> sections_;
  std::vector<Segment> segments_;
};

}  // namespace

std::optional<GoBinary> read_go_binary(uint64_t size, const ReadAt& read_at,
                                       const std::string& name) {
  const File file(size, read_at, name);
  // Not ELF: not a Go binary this reader knows (the ELF readers say what is wrong).
  if (size < 16) return std::nullopt;
  const Buffer ident = file.read(0, 16);
  const auto* p = reinterpret_cast<const unsigned char*>(ident.bytes.get());
  if (std::memcmp(p, kElfMagic.data(), kElfMagic.size()) != 0) return std::nullopt;
  std::vector<Section> sections = read_sections(size, read_at, name);
  std::vector<Segment> segments = read_segments(size, read_at, name);
  // read_sections has checked class and data encoding.
  const Ident facts{p[5] == 1, p[4] == 1 ? 4u : 8u};
  return GoReader(file, facts, std::move(sections), std::move(segments)).read();
}

}  // namespace dslim::elf
