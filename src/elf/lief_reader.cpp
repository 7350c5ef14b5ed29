// The LIEF reader for the user's own binaries. LIEF 0.9 accepts truncated and
// malformed files silently (and may crash on hostile ones), so the light reader
// validates the same bytes first and must agree with LIEF afterwards.
#include <dlfcn.h>
#include <unistd.h>

#include <array>
#include <string>

#include "dslim/elf.hpp"
#include "dslim/error.hpp"
#include "elf/file_bytes.hpp"
#include "elf/full_reader.hpp"
#include "elf/lief_plugin.hpp"

namespace dslim::elf {
namespace {

constexpr uint64_t kDtNeeded = 1, kDtSoname = 14, kDtRpath = 15, kDtRunpath = 29;
constexpr uint64_t kDtFlags1 = 0x6ffffffb;

// dslim-lief.so beside the running program, else wherever the loader's
// search finds it (a test's RUNPATH or LD_LIBRARY_PATH). Beside is spelled
// out from /proc/self/exe: a sanitizer's dlopen interceptor hides dslim's
// RUNPATH ($ORIGIN) from the loader.
DslimLiefRead load_lief() {
#if DSLIM_STATIC
  return dslim_lief_read;  // linked in
#else
  void* module = nullptr;
  std::array<char, 4096> exe{};
  const ssize_t n = ::readlink("/proc/self/exe", exe.data(), exe.size() - 1);
  if (n > 0) {
    std::string beside(exe.data(), static_cast<size_t>(n));
    beside = beside.substr(0, beside.rfind('/') + 1) + detail::kLiefModule;
    module = ::dlopen(beside.c_str(), RTLD_NOW | RTLD_LOCAL);
  }
  if (module == nullptr) module = ::dlopen(detail::kLiefModule, RTLD_NOW | RTLD_LOCAL);
  if (module == nullptr) {
    throw Error(std::string("cannot load LIEF for the full ELF check: ") + ::dlerror());
  }
  auto* read = reinterpret_cast<DslimLiefRead>(::dlsym(module, detail::kLiefReadSymbol));
  if (read == nullptr) {
    throw Error(std::string(detail::kLiefModule) + " has no " + detail::kLiefReadSymbol);
  }
  return read;
#endif
}

// Later entries win for single-valued tags, as in the loaders and read_elf.
void take(void* context, DslimLiefField field, uint64_t tag, const char* text, uint64_t value) {
  ElfInfo& info = *static_cast<ElfInfo*>(context);
  switch (field) {
    case kDslimLiefHeader:
      info.elf_class = (value & 0xff) == 1 ? ElfClass::Elf32 : ElfClass::Elf64;
      info.little_endian = (value >> 8 & 0xff) != 2;
      info.osabi = static_cast<uint8_t>(value >> 16);
      info.type = static_cast<ObjectType>(value >> 24 & 0xffff);
      info.machine = static_cast<uint16_t>(value >> 40);
      break;
    case kDslimLiefInterpreter:
      info.interpreter = text;
      break;
    case kDslimLiefDynamic:
      info.has_dynamic = true;
      break;
    case kDslimLiefEntry:
      if (tag == kDtFlags1) info.flags_1 = value;
      if (text == nullptr) break;
      if (tag == kDtNeeded) info.needed.emplace_back(text);
      if (tag == kDtSoname) info.soname = text;
      if (tag == kDtRpath) info.rpath = text;
      if (tag == kDtRunpath) info.runpath = text;
      break;
  }
}

ElfInfo parse_with_lief(const std::vector<uint8_t>& bytes, const std::string& path) {
  static const DslimLiefRead read = load_lief();  // a throw leaves it to the next call
  ElfInfo info;
  std::array<char, 512> error{};
  if (read(bytes.data(), bytes.size(), path.c_str(), take, &info, error.data(), error.size()) !=
      0) {
    throw Error(path + ": " + error.data());
  }
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

ElfInfo detail::read_elf_full(const std::vector<uint8_t>& bytes, const std::string& name) {
  // LIEF parses exactly the bytes validated here, not a second read of the path.
  const ElfInfo light = read_elf(std::as_bytes(std::span(bytes)), name);
  detail::check_for_lief(std::as_bytes(std::span(bytes)), light, name);
  ElfInfo info = parse_with_lief(bytes, name);
  cross_check(name, light, info);
  info.tables = light.tables;  // LIEF's view has no file offsets; these bytes are the same
  return info;
}

void with_host_file(const std::string& path,
                    const std::function<void(uint64_t size, const ReadAt& read_at)>& use) {
  const detail::HostFile file(path);
  use(file.size(), [&](uint64_t offset, std::span<std::byte> out) { file.read(offset, out); });
}

ElfInfo read_elf_file(const std::string& path, Depth depth) {
  const detail::HostFile file(path);
  if (depth == Depth::Headers) {
    // The loader's view only: a few small reads, not the whole file.
    return read_elf(
        file.size(), [&](uint64_t offset, std::span<std::byte> out) { file.read(offset, out); },
        path);
  }
  return detail::read_elf_full(file.read_all(), path);
}

}  // namespace dslim::elf
