// Section and program headers through ReadAt: the ELF header, then each table
// in one read, every offset checked against the file's size first (the files
// are the user's or an image's, so possibly truncated or hostile).
#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "dslim/elf_sections.hpp"
#include "dslim/error.hpp"
#include "elf/byte_view.hpp"
#include "elf/layout.hpp"

namespace dslim::elf {
namespace {

using detail::ByteView;
using detail::SpanSource;

constexpr std::array<unsigned char, 4> kElfMagic{0x7f, 'E', 'L', 'F'};
constexpr uint16_t kShnXindex = 0xffff;  // e_shstrndx escape to section 0's sh_link
constexpr uint16_t kPnXnum = 0xffff;     // e_phnum escape to section 0's sh_info
constexpr uint64_t kMaxSegments = 65535;

using detail::kLayout32;
using detail::kLayout64;
using detail::Layout;

// Bytes read from the file, owned; make_unique_for_overwrite skips zeroing
// what the read overwrites anyway.
struct Buffer {
  std::unique_ptr<std::byte[]> bytes;
  uint64_t size = 0;
  std::span<const std::byte> span() const { return {bytes.get(), size}; }
};

class HeaderReader {
 public:
  HeaderReader(uint64_t size, const ReadAt& read_at, const std::string& name)
      : size_(size), read_at_(read_at), name_(name) {
    read_header();
  }

  std::vector<Section> sections() {
    const uint64_t count = section_count();
    if (count == 0) return {};
    const Buffer table = read(shoff_, count * layout_->shdr_size, "section headers end");
    const SpanSource source(table.span());
    const ByteView view(source, little_);
    std::vector<Section> out(count);
    std::vector<uint32_t> name_at(count);
    for (uint64_t i = 0; i < count; ++i) {
      const uint64_t at = i * layout_->shdr_size;
      Section& s = out[i];
      name_at[i] = static_cast<uint32_t>(get(view, at, 4));
      s.type = static_cast<uint32_t>(get(view, at + 4, 4));
      s.flags = get(view, at + layout_->sh_flags_at, layout_->word);
      s.addr = get(view, at + layout_->sh_addr_at, layout_->word);
      s.offset = get(view, at + layout_->sh_offset_at, layout_->word);
      s.size = get(view, at + layout_->sh_size_at, layout_->word);
      if (s.type != Section::kNull && s.type != Section::kNobits && !inside(s.offset, s.size)) {
        fail("section " + std::to_string(i) + " (offset " + std::to_string(s.offset) + ", " +
             std::to_string(s.size) + " bytes) reaches past the end of the file (" +
             std::to_string(size_) + " bytes)");
      }
    }
    uint64_t strndx = shstrndx_;
    if (strndx == kShnXindex) strndx = get(view, layout_->sh_link_at, 4);
    if (strndx == 0) return out;  // SHN_UNDEF: the sections have no names
    if (strndx >= count) {
      fail("section name table index " + std::to_string(strndx) + " is out of range (" +
           std::to_string(count) + " sections)");
    }
    name_sections(out, name_at, out[strndx]);
    return out;
  }

  std::vector<Segment> segments() {
    uint64_t count = phnum_;
    if (count == kPnXnum) count = section0(layout_->sh_info_at, 4, "e_phnum is PN_XNUM");
    if (count == 0) return {};
    if (phentsize_ != layout_->phdr_size) {
      fail("program header entry size is " + std::to_string(phentsize_) + ", expected " +
           std::to_string(layout_->phdr_size));
    }
    if (count > kMaxSegments) fail("too many program headers (" + std::to_string(count) + ")");
    const Buffer table = read(phoff_, count * layout_->phdr_size, "program headers end");
    const SpanSource source(table.span());
    const ByteView view(source, little_);
    std::vector<Segment> out(count);
    for (uint64_t i = 0; i < count; ++i) {
      const uint64_t at = i * layout_->phdr_size;
      Segment& s = out[i];
      s.type = static_cast<uint32_t>(get(view, at, 4));
      s.flags = static_cast<uint32_t>(get(view, at + layout_->p_flags_at, 4));
      s.offset = get(view, at + layout_->p_offset_at, layout_->word);
      s.vaddr = get(view, at + layout_->p_vaddr_at, layout_->word);
      s.filesz = get(view, at + layout_->p_filesz_at, layout_->word);
      s.memsz = get(view, at + layout_->p_memsz_at, layout_->word);
      if (!inside(s.offset, s.filesz)) {
        fail("segment " + std::to_string(i) + " (offset " + std::to_string(s.offset) + ", " +
             std::to_string(s.filesz) + " bytes) reaches past the end of the file (" +
             std::to_string(size_) + " bytes)");
      }
    }
    return out;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw Error(name_ + ": " + what); }

  bool inside(uint64_t offset, uint64_t length) const {
    return offset <= size_ && length <= size_ - offset;
  }

  Buffer read(uint64_t offset, uint64_t length, const char* what) const {
    if (!inside(offset, length)) {
      const bool wraps = length > std::numeric_limits<uint64_t>::max() - offset;
      fail(std::string("truncated ELF file (") + what + " at " +
           (wraps ? "beyond 2^64" : std::to_string(offset + length)) + ", file is " +
           std::to_string(size_) + " bytes)");
    }
    Buffer b{std::make_unique_for_overwrite<std::byte[]>(length), length};
    if (length != 0) read_at_(offset, {b.bytes.get(), length});
    return b;
  }

  // The views are over buffers sized for the fields read, so a failed read
  // is a bug here, not bad input; it still fails cleanly.
  uint64_t get(const ByteView& view, uint64_t at, unsigned width) const {
    uint64_t v = 0;
    if (!view.read(at, width, v)) fail("internal error: ELF header field out of range");
    return v;
  }

  void read_header() {
    if (size_ < 16) fail("not an ELF file (" + std::to_string(size_) + " bytes)");
    const Buffer ident = read(0, std::min<uint64_t>(size_, 64), "ELF header ends");
    const auto* p = reinterpret_cast<const unsigned char*>(ident.bytes.get());
    if (std::memcmp(p, kElfMagic.data(), kElfMagic.size()) != 0) fail("not an ELF file");
    if (p[4] != 1 && p[4] != 2) fail("unsupported ELF class " + std::to_string(p[4]));
    if (p[5] != 1 && p[5] != 2) fail("unsupported ELF data encoding " + std::to_string(p[5]));
    if (p[6] != 1) fail("unsupported ELF version " + std::to_string(p[6]));
    layout_ = p[4] == 1 ? &kLayout32 : &kLayout64;
    little_ = p[5] == 1;
    if (ident.size < layout_->ehdr_size) {
      fail("truncated ELF file (ELF header ends at " + std::to_string(layout_->ehdr_size) +
           ", file is " + std::to_string(size_) + " bytes)");
    }
    const SpanSource source(ident.span());
    const ByteView view(source, little_);
    phoff_ = get(view, layout_->phoff_at, layout_->word);
    shoff_ = get(view, layout_->shoff_at, layout_->word);
    phentsize_ = get(view, layout_->phentsize_at, 2);
    phnum_ = get(view, layout_->phnum_at, 2);
    shentsize_ = get(view, layout_->shentsize_at, 2);
    shnum_ = get(view, layout_->shnum_at, 2);
    shstrndx_ = get(view, layout_->shstrndx_at, 2);
  }

  void check_shentsize() const {
    if (shentsize_ != layout_->shdr_size) {
      fail("section header entry size is " + std::to_string(shentsize_) + ", expected " +
           std::to_string(layout_->shdr_size));
    }
  }

  // A field of section 0, which holds the counts that overflow the ELF
  // header's 16-bit fields; `why` says what sent the reader there.
  uint64_t section0(uint64_t field_at, unsigned width, const char* why) const {
    if (shoff_ == 0) fail(std::string(why) + " but there are no section headers");
    check_shentsize();
    const Buffer entry = read(shoff_, layout_->shdr_size, "section header 0 ends");
    const SpanSource source(entry.span());
    return get(ByteView(source, little_), field_at, width);
  }

  uint64_t section_count() const {
    if (shoff_ == 0) return 0;
    uint64_t count = shnum_;
    // e_shnum 0 with e_shoff set: the count is section 0's sh_size.
    if (count == 0) count = section0(layout_->sh_size_at, layout_->word, "e_shnum is 0");
    if (count == 0) return 0;
    check_shentsize();
    if (count > kMaxSections) {
      fail("too many sections (" + std::to_string(count) + ", at most " +
           std::to_string(kMaxSections) + " supported)");
    }
    return count;
  }

  // One read for the names: from the lowest name offset to a little past the
  // highest (names are short; the table may be shared with a large .strtab),
  // and a second read to the table's end only if a name runs past that.
  void name_sections(std::vector<Section>& out, const std::vector<uint32_t>& name_at,
                     const Section& table) const {
    constexpr uint64_t kNameSlack = 256;
    if (table.type == Section::kNobits) fail("section name table has no file bytes (SHT_NOBITS)");
    uint64_t low = std::numeric_limits<uint64_t>::max(), high = 0;
    for (size_t i = 0; i < out.size(); ++i) {
      if (name_at[i] >= table.size) {
        fail("section " + std::to_string(i) + " name offset " + std::to_string(name_at[i]) +
             " is outside the section name table (" + std::to_string(table.size) + " bytes)");
      }
      low = std::min<uint64_t>(low, name_at[i]);
      high = std::max<uint64_t>(high, name_at[i]);
    }
    Buffer names = read(table.offset + low, std::min(table.size - low, high - low + kNameSlack),
                        "section name table ends");
    for (size_t i = 0; i < out.size(); ++i) {
      uint64_t at = name_at[i] - low;
      const void* nul = std::memchr(names.bytes.get() + at, 0, names.size - at);
      if (nul == nullptr && low + names.size < table.size) {
        names = read(table.offset + low, table.size - low, "section name table ends");
        nul = std::memchr(names.bytes.get() + at, 0, names.size - at);
      }
      if (nul == nullptr) fail("section " + std::to_string(i) + " name is not NUL-terminated");
      const auto* begin = reinterpret_cast<const char*>(names.bytes.get() + at);
      out[i].name.assign(begin, static_cast<const char*>(nul));
    }
  }

  uint64_t size_;
  const ReadAt& read_at_;
  const std::string& name_;
  const Layout* layout_ = &kLayout64;
  bool little_ = true;
  uint64_t phoff_ = 0, shoff_ = 0;
  uint64_t phentsize_ = 0, phnum_ = 0, shentsize_ = 0, shnum_ = 0, shstrndx_ = 0;
};

}  // namespace

std::vector<Section> read_sections(uint64_t size, const ReadAt& read_at, const std::string& name) {
  return HeaderReader(size, read_at, name).sections();
}

std::vector<Segment> read_segments(uint64_t size, const ReadAt& read_at, const std::string& name) {
  return HeaderReader(size, read_at, name).segments();
}

}  // namespace dslim::elf
