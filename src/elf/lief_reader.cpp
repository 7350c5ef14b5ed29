// The LIEF reader for the user's own binaries. LIEF 0.9 accepts truncated and
// malformed files silently (and may crash on hostile ones), so the light reader
// validates the same bytes first and must agree with LIEF afterwards.
#include <LIEF/ELF.hpp>
#include <LIEF/logging.hpp>

#include <exception>
#include <memory>
#include <mutex>
#include <string>

#include "dslim/elf.hpp"
#include "dslim/error.hpp"
#include "elf/file_bytes.hpp"

namespace dslim::elf {
namespace {

namespace L = LIEF::ELF;

std::unique_ptr<L::Binary> parse_with_lief(const std::vector<uint8_t>& bytes,
                                           const std::string& path) {
  // Library code never prints; LIEF's logger would.
  static std::once_flag quiet;
  std::call_once(quiet, [] { LIEF::Logger::disable(); });
  std::unique_ptr<L::Binary> binary;
  try {
    binary = L::Parser::parse(bytes, path);
  } catch (const std::exception& e) {
    throw Error(path + ": LIEF cannot parse the ELF file (" + e.what() + ")");
  } catch (...) {
    throw Error(path + ": LIEF cannot parse the ELF file");
  }
  if (!binary) throw Error(path + ": LIEF cannot parse the ELF file");
  return binary;
}

void fill_header(const L::Binary& binary, ElfInfo& info) {
  const L::Header& h = binary.header();
  info.elf_class =
      h.identity_class() == L::ELF_CLASS::ELFCLASS32 ? ElfClass::Elf32 : ElfClass::Elf64;
  info.little_endian = h.identity_data() != L::ELF_DATA::ELFDATA2MSB;
  info.machine = static_cast<uint16_t>(h.machine_type());
  info.osabi = static_cast<uint8_t>(h.identity_os_abi());
  info.type = static_cast<ObjectType>(h.file_type());
}

// Later entries win for single-valued tags, as in the loaders and read_elf.
void fill_entry(const L::DynamicEntry& entry, ElfInfo& info) {
  switch (entry.tag()) {
    case L::DYNAMIC_TAGS::DT_NEEDED:
      if (auto* e = dynamic_cast<const L::DynamicEntryLibrary*>(&entry))
        info.needed.push_back(e->name());
      break;
    case L::DYNAMIC_TAGS::DT_SONAME:
      if (auto* e = dynamic_cast<const L::DynamicSharedObject*>(&entry)) info.soname = e->name();
      break;
    case L::DYNAMIC_TAGS::DT_RPATH:
      if (auto* e = dynamic_cast<const L::DynamicEntryRpath*>(&entry)) info.rpath = e->rpath();
      break;
    case L::DYNAMIC_TAGS::DT_RUNPATH:
      if (auto* e = dynamic_cast<const L::DynamicEntryRunPath*>(&entry))
        info.runpath = e->runpath();
      break;
    case L::DYNAMIC_TAGS::DT_FLAGS_1:
      info.flags_1 = entry.value();
      break;
    default:
      break;
  }
}

ElfInfo info_from_lief(const L::Binary& binary) {
  ElfInfo info;
  fill_header(binary, info);
  if (binary.has_interpreter()) info.interpreter = binary.interpreter();
  info.has_dynamic = binary.has(L::SEGMENT_TYPES::PT_DYNAMIC);
  for (const L::DynamicEntry& entry : binary.dynamic_entries()) fill_entry(entry, info);
  return info;
}

std::string show(const std::optional<std::string>& s) {
  return s ? "\"" + *s + "\"" : "none";
}

std::string show(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i];
  return out + "]";
}

template <typename T>
void require_same(const std::string& path, const char* field, const T& light, const T& lief) {
  if (light == lief) return;
  throw Error(path + ": malformed ELF file: readers disagree on " + field + " (" + show(light) +
              " from the program headers, " + show(lief) + " from LIEF)");
}

// A disagreement means the file says different things to different readers,
// which only a damaged or deliberately crafted file does.
void cross_check(const std::string& path, const ElfInfo& light, const ElfInfo& lief) {
  require_same(path, "PT_INTERP", light.interpreter, lief.interpreter);
  require_same(path, "DT_NEEDED", light.needed, lief.needed);
  require_same(path, "DT_SONAME", light.soname, lief.soname);
  require_same(path, "DT_RPATH", light.rpath, lief.rpath);
  require_same(path, "DT_RUNPATH", light.runpath, lief.runpath);
  if (!light.compatible_with(lief)) {
    throw Error(path + ": malformed ELF file: readers disagree on the ELF class or machine");
  }
}

}  // namespace

ElfInfo read_elf_file(const std::string& path, Depth depth) {
  const detail::HostFile file(path);
  if (depth == Depth::Headers) {
    // The loader's view only: a few small reads, not the whole file.
    return read_elf(
        file.size(), [&](uint64_t offset, std::span<std::byte> out) { file.read(offset, out); },
        path);
  }
  const std::vector<uint8_t> bytes = file.read_all();
  // LIEF parses exactly the bytes validated here, not a second read of the path.
  const ElfInfo light = read_elf(std::as_bytes(std::span(bytes)), path);
  const auto binary = parse_with_lief(bytes, path);
  ElfInfo info = info_from_lief(*binary);
  cross_check(path, light, info);
  return info;
}

}  // namespace dslim::elf
