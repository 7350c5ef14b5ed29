// Tests for src/elf/: the light reader and the LIEF reader against readelf on
// real files, against each other, on synthetic 32-bit and big-endian files,
// and on truncated, patched and randomly mutated copies.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "dslim/elf.hpp"
#include "dslim/elf_symbols.hpp"
#include "dslim/error.hpp"
#include "elf/byte_view.hpp"
#include "support/fuzz_inputs.hpp"

namespace fs = std::filesystem;
using namespace dslim::elf;
using Catch::Matchers::Contains;

namespace {

const fs::path kFixtures = DSLIM_FIXTURE_DIR;

// A fresh directory under the system temp dir, removed with its contents.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    const auto base = fs::temp_directory_path();
    do {
      path_ = base / ("dslim-test-elf-" + std::to_string(rd()) + std::to_string(rd()));
    } while (!fs::create_directory(path_));
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

std::vector<std::byte> slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), {});
  std::vector<std::byte> out(chars.size());
  std::memcpy(out.data(), chars.data(), chars.size());
  return out;
}

void write_bytes(const fs::path& path, std::span<const std::byte> bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out);
}

void write_text(const fs::path& path, const std::string& text) {
  write_bytes(path, std::as_bytes(std::span(text.data(), text.size())));
}

std::string quote(const fs::path& path) {
  return "'" + path.string() + "'";
}

// Runs a shell command and returns its stdout; a failing command fails the test.
std::string run(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  const int status = ::pclose(pipe);
  INFO(command);
  REQUIRE(status == 0);
  return out;
}

// What binutils' readelf says about a file: the oracle for both readers.
struct Expected {
  std::optional<std::string> interpreter;
  std::vector<std::string> needed;
  std::optional<std::string> soname, rpath, runpath;
};

Expected readelf(const fs::path& path) {
  Expected e;
  const std::string out = run("LC_ALL=C readelf -dlW " + quote(path) + " 2>/dev/null");
  static const std::regex interp(R"(\[Requesting program interpreter: (.*)\]$)");
  static const std::regex dyn(
      R"(^\s*0x[0-9a-f]+ \((NEEDED|SONAME|RPATH|RUNPATH)\)\s+[^\[]*\[(.*)\]$)");
  std::istringstream lines(out);
  std::string line;
  std::smatch m;
  while (std::getline(lines, line)) {
    if (std::regex_search(line, m, interp)) e.interpreter = m[1];
    if (!std::regex_search(line, m, dyn)) continue;
    if (m[1] == "NEEDED") e.needed.push_back(m[2]);
    if (m[1] == "SONAME") e.soname = m[2];
    if (m[1] == "RPATH") e.rpath = m[2];
    if (m[1] == "RUNPATH") e.runpath = m[2];
  }
  return e;
}

void check_matches(const ElfInfo& info, const Expected& e) {
  CHECK(info.interpreter == e.interpreter);
  CHECK(info.needed == e.needed);
  CHECK(info.soname == e.soname);
  CHECK(info.rpath == e.rpath);
  CHECK(info.runpath == e.runpath);
}

void check_same(const ElfInfo& a, const ElfInfo& b) {
  CHECK(a.elf_class == b.elf_class);
  CHECK(a.little_endian == b.little_endian);
  CHECK(a.machine == b.machine);
  CHECK(a.osabi == b.osabi);
  CHECK(a.type == b.type);
  CHECK(a.has_dynamic == b.has_dynamic);
  CHECK(a.interpreter == b.interpreter);
  CHECK(a.needed == b.needed);
  CHECK(a.soname == b.soname);
  CHECK(a.rpath == b.rpath);
  CHECK(a.runpath == b.runpath);
  CHECK(a.flags_1 == b.flags_1);
}

ElfInfo read_light(const fs::path& path) {
  return read_elf(slurp(path), path.string());
}

bool is_elf_file(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return false;
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, 4) && std::memcmp(magic,
                                          "\x7f"
                                          "ELF",
                                          4) == 0;
}

// Up to `limit` ELF files directly in `dir` whose names match `pattern`, in
// name order (so the set is the same on every run), small enough to keep LIEF quick.
std::vector<fs::path> elf_files(const fs::path& dir, const std::regex& pattern, size_t limit) {
  std::vector<fs::path> all;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (std::regex_search(entry.path().filename().string(), pattern)) all.push_back(entry.path());
  }
  std::sort(all.begin(), all.end());
  std::vector<fs::path> out;
  for (const auto& p : all) {
    std::error_code ec;
    if (out.size() == limit) break;
    if (is_elf_file(p) && fs::file_size(p, ec) < 8 * 1024 * 1024) out.push_back(p);
  }
  return out;
}

// A section's file range, from readelf -S (independent of the code under test).
struct Range {
  uint64_t offset = 0, size = 0;
};

Range section(const fs::path& path, const std::string& name) {
  const std::string out = run("LC_ALL=C readelf -SW " + quote(path));
  const std::regex row(R"(\]\s+(\S+)\s+\S+\s+[0-9a-f]+\s+([0-9a-f]+)\s+([0-9a-f]+))");
  std::istringstream lines(out);
  std::string line;
  std::smatch m;
  while (std::getline(lines, line)) {
    if (std::regex_search(line, m, row) && m[1] == name) {
      return Range{std::stoull(m[2], nullptr, 16), std::stoull(m[3], nullptr, 16)};
    }
  }
  FAIL("no section " << name << " in " << path);
  return {};
}

uint64_t le(std::span<const std::byte> b, size_t at, size_t width) {
  uint64_t v = 0;
  for (size_t i = 0; i < width; ++i) v |= static_cast<uint64_t>(b[at + i]) << (8 * i);
  return v;
}

// Expects both readers to reject `path` (holding `bytes`) with one line naming it.
void check_rejected(const fs::path& path, std::span<const std::byte> bytes) {
  const std::string name = path.string();
  CHECK_THROWS_AS(read_elf(bytes, name), dslim::Error);
  CHECK_THROWS_WITH(read_elf(bytes, name), Contains(name) && !Contains("\n"));
  CHECK_THROWS_WITH(read_elf_file(name), Contains(name) && !Contains("\n"));
}

// ---- a tiny ELF writer for the classes and byte orders this machine has no files of

struct Synthetic {
  bool is64 = true;
  bool little = true;
  uint16_t machine = 183;
  uint16_t type = 3;
  uint8_t osabi = 0;
  std::string interp = "/lib/ld-linux-aarch64.so.1";
  bool interp_nul = true;
  bool with_strtab = true;
  std::optional<uint64_t> strtab_address;  // default: where the table really is
  std::optional<uint64_t> strsz;           // default: the table's size
  std::optional<uint64_t> needed_offset;   // default: offset of "libfoo.so.1"
  std::optional<uint16_t> phentsize;
  std::optional<uint16_t> phnum;
  uint64_t flags_1 = kDf1NoDefLib;
};

class Writer {
 public:
  Writer(bool is64, bool little) : is64_(is64), little_(little) {}
  void put(uint64_t at, uint64_t value, size_t width) {
    if (bytes_.size() < at + width) bytes_.resize(at + width);
    for (size_t i = 0; i < width; ++i) {
      const size_t shift = 8 * (little_ ? i : width - 1 - i);
      bytes_[at + i] = static_cast<std::byte>((value >> shift) & 0xff);
    }
  }
  void word(uint64_t at, uint64_t value) { put(at, value, is64_ ? 8 : 4); }
  void text(uint64_t at, const std::string& s) {
    if (bytes_.size() < at + s.size()) bytes_.resize(at + s.size());
    std::memcpy(bytes_.data() + at, s.data(), s.size());
  }
  std::vector<std::byte>& bytes() { return bytes_; }

 private:
  bool is64_, little_;
  std::vector<std::byte> bytes_;
};

constexpr uint64_t kBase = 0x400000;

std::vector<std::byte> make_elf(const Synthetic& s) {
  Writer w(s.is64, s.little);
  const uint64_t ehsize = s.is64 ? 64 : 52, phsize = s.is64 ? 56 : 32, dynsize = s.is64 ? 16 : 8;
  const uint64_t phnum = 3, phoff = ehsize;
  const uint64_t interp_at = phoff + phnum * phsize;
  const std::string interp = s.interp + (s.interp_nul ? std::string(1, '\0') : "");
  const uint64_t strtab_at = interp_at + interp.size();
  const std::string strtab =
      std::string("\0libfoo.so.1\0libbar.so\0libsyn.so\0/opt/r\0$ORIGIN/lib\0", 52);
  const uint64_t dyn_at = (strtab_at + strtab.size() + 7) / 8 * 8;
  struct Dyn {
    uint64_t tag, value;
  };
  auto str = [&](const char* text) { return strtab.find(text); };
  std::vector<Dyn> dyn = {{1, s.needed_offset.value_or(str("libfoo"))},
                          {1, str("libbar")},
                          {14, str("libsyn")},
                          {15, str("/opt/r")},
                          {29, str("$ORIGIN")}};
  if (s.with_strtab) dyn.push_back({5, s.strtab_address.value_or(kBase + strtab_at)});
  dyn.push_back({10, s.strsz.value_or(strtab.size())});
  dyn.push_back({0x6ffffffb, s.flags_1});
  dyn.push_back({0, 0});
  const uint64_t total = dyn_at + dyn.size() * dynsize;

  w.text(0,
         "\x7f"
         "ELF");
  w.put(4, s.is64 ? 2 : 1, 1);
  w.put(5, s.little ? 1 : 2, 1);
  w.put(6, 1, 1);
  w.put(7, s.osabi, 1);
  w.put(16, s.type, 2);
  w.put(18, s.machine, 2);
  w.put(20, 1, 4);
  // e_entry, e_phoff and e_shoff are words, so later fields sit 12 bytes earlier in ELF32.
  const uint64_t d = s.is64 ? 0 : 12;
  w.word(s.is64 ? 32 : 28, phoff);
  w.put(52 - d, ehsize, 2);
  w.put(54 - d, s.phentsize.value_or(phsize), 2);
  w.put(56 - d, s.phnum.value_or(phnum), 2);

  auto phdr = [&](uint64_t i, uint32_t type, uint64_t offset, uint64_t size) {
    const uint64_t at = phoff + i * phsize;
    w.put(at, type, 4);
    if (s.is64) {
      w.put(at + 4, 4, 4);
      w.word(at + 8, offset), w.word(at + 16, kBase + offset), w.word(at + 24, kBase + offset);
      w.word(at + 32, size), w.word(at + 40, size), w.word(at + 48, type == 1 ? 0x1000 : 1);
    } else {
      w.word(at + 4, offset), w.word(at + 8, kBase + offset), w.word(at + 12, kBase + offset);
      w.word(at + 16, size), w.word(at + 20, size), w.put(at + 24, 4, 4);
      w.word(at + 28, type == 1 ? 0x1000 : 1);
    }
  };
  phdr(0, 1, 0, total);  // PT_LOAD over the whole file
  phdr(1, 3, interp_at, interp.size());
  phdr(2, 2, dyn_at, dyn.size() * dynsize);
  w.text(interp_at, interp);
  w.text(strtab_at, strtab);
  for (size_t i = 0; i < dyn.size(); ++i) {
    w.word(dyn_at + i * dynsize, dyn[i].tag);
    w.word(dyn_at + i * dynsize + dynsize / 2, dyn[i].value);
  }
  return w.bytes();
}

void check_synthetic(const ElfInfo& info, const Synthetic& s) {
  CHECK(info.elf_class == (s.is64 ? ElfClass::Elf64 : ElfClass::Elf32));
  CHECK(info.little_endian == s.little);
  CHECK(info.machine == s.machine);
  CHECK(info.osabi == s.osabi);
  CHECK(static_cast<uint16_t>(info.type) == s.type);
  CHECK(info.has_dynamic);
  CHECK(info.interpreter == s.interp);
  CHECK(info.needed == std::vector<std::string>{"libfoo.so.1", "libbar.so"});
  CHECK(info.soname == "libsyn.so");
  CHECK(info.rpath == "/opt/r");
  CHECK(info.runpath == "$ORIGIN/lib");
  CHECK(info.flags_1 == s.flags_1);
}

// Mutates `original` `rounds` times (seeded) and requires read_elf to succeed
// or throw dslim::Error each time; anything else (or, under ASan, any read
// outside the span) is a bug.
// What a reader made of the bytes: its fields, or its error message.
template <typename Read>
std::string outcome(Read&& read) {
  try {
    const ElfInfo i = read();
    std::ostringstream out;
    out << int(i.elf_class) << ' ' << i.little_endian << ' ' << i.machine << ' ' << int(i.osabi)
        << ' ' << int(i.type) << ' ' << i.has_dynamic << ' ' << i.interpreter.value_or("-") << ' '
        << i.soname.value_or("-") << ' ' << i.rpath.value_or("-") << ' ' << i.runpath.value_or("-")
        << ' ' << i.flags_1;
    for (const auto& n : i.needed) out << ' ' << n;
    return out.str();
  } catch (const dslim::Error& e) {
    return std::string("error: ") + e.what();
  }
}

void fuzz_light(const std::vector<std::byte>& original, int rounds, uint32_t seed,
                std::vector<std::byte> (*mutate)(std::vector<std::byte>, std::mt19937&)) {
  std::mt19937 rng(seed);
  int ok = 0, rejected = 0;
  for (int i = 0; i < rounds; ++i) {
    const auto bytes = mutate(original, rng);
    try {
      (void)read_elf(bytes, "mutant");
      ++ok;
    } catch (const dslim::Error& e) {
      ++rejected;
      REQUIRE_THAT(e.what(), Contains("mutant: "));
    } catch (const std::exception& e) {
      FAIL("round " << i << ": unexpected exception " << e.what());
    }
    // Read piecewise (as the resolver's walk reads), the same bytes say the
    // same; and the reader never asks for a byte past the end.
    const auto windowed = [&] {
      return read_elf(
          bytes.size(),
          [&](uint64_t offset, std::span<std::byte> out) {
            REQUIRE(offset <= bytes.size());
            REQUIRE(out.size() <= bytes.size() - offset);
            std::memcpy(out.data(), bytes.data() + offset, out.size());
          },
          "mutant");
    };
    REQUIRE(outcome(windowed) == outcome([&] { return read_elf(bytes, "mutant"); }));
  }
  INFO("accepted " << ok << ", rejected " << rejected);
  CHECK(ok > 0);
  CHECK(rejected > 0);
}

// Mostly small changes where the reader looks (header, program headers, the
// dynamic segment at the end of small files), sometimes a cut.
std::vector<std::byte> mutate(std::vector<std::byte> b, std::mt19937& rng) {
  const int changes = 1 + static_cast<int>(rng() % 6);
  for (int i = 0; i < changes; ++i) {
    size_t at;
    switch (rng() % 4) {
      case 0:
        at = rng() % std::min<size_t>(b.size(), 64);
        break;
      case 1:
        at = rng() % std::min<size_t>(b.size(), 0x300);
        break;
      default:
        at = rng() % b.size();
        break;
    }
    switch (rng() % 3) {
      case 0:
        b[at] = static_cast<std::byte>(rng());
        break;
      case 1:
        b[at] ^= static_cast<std::byte>(1u << (rng() % 8));
        break;
      default:
        b[at] = static_cast<std::byte>(rng() % 2 ? 0xff : 0);
        break;
    }
  }
  if (rng() % 10 == 0) b.resize(rng() % b.size());
  return b;
}

}  // namespace

TEST_CASE("system files match readelf", "[elf]") {
  for (const char* file :
       {"/bin/ls", "/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"}) {
    INFO(file);
    REQUIRE(fs::exists(file));
    const Expected expected = readelf(file);
    const ElfInfo light = read_light(file);
    const ElfInfo lief = read_elf_file(file);
    check_matches(light, expected);
    check_matches(lief, expected);
    check_same(light, lief);
    CHECK(light.machine == 62);
    CHECK(light.elf_class == ElfClass::Elf64);
    CHECK(light.little_endian);
    CHECK(light.has_dynamic);
    CHECK(platform_of(light).architecture == "amd64");
  }
  // Facts the oracle itself must show, so a broken readelf parse cannot pass.
  CHECK(read_light("/bin/ls").interpreter == "/lib64/ld-linux-x86-64.so.2");
  const auto ls_needed = readelf("/bin/ls").needed;
  CHECK(std::find(ls_needed.begin(), ls_needed.end(), "libc.so.6") != ls_needed.end());
  CHECK(readelf("/lib/x86_64-linux-gnu/libc.so.6").soname == "libc.so.6");
  CHECK(read_light("/lib64/ld-linux-x86-64.so.2").soname == "ld-linux-x86-64.so.2");
  CHECK(read_light("/lib/x86_64-linux-gnu/libc.so.6").type == ObjectType::Dyn);
}

TEST_CASE("light reader agrees with LIEF and readelf on many files", "[elf]") {
  auto files = elf_files("/usr/bin", std::regex("."), 30);
  const auto libs = elf_files("/lib/x86_64-linux-gnu", std::regex(R"(\.so(\.|$))"), 30);
  files.insert(files.end(), libs.begin(), libs.end());
  REQUIRE(files.size() >= 40);
  for (const auto& file : files) {
    INFO(file);
    const ElfInfo light = read_light(file);
    check_same(light, read_elf_file(file));
    check_matches(light, readelf(file));
  }
}

TEST_CASE("fixture binaries", "[elf]") {
  const auto bin = kFixtures / "bin";
  SECTION("RUNPATH") {
    for (const ElfInfo& info :
         {read_light(bin / "app_runpath"), read_elf_file(bin / "app_runpath")}) {
      CHECK(info.runpath == "$ORIGIN/../lib");
      CHECK_FALSE(info.rpath);
      CHECK(std::find(info.needed.begin(), info.needed.end(), "libx.so.1") != info.needed.end());
      CHECK(info.interpreter == "/lib64/ld-linux-x86-64.so.2");
    }
  }
  SECTION("RPATH") {
    for (const ElfInfo& info : {read_light(bin / "app_rpath"), read_elf_file(bin / "app_rpath")}) {
      CHECK(info.rpath == "$ORIGIN/../rlib");
      CHECK_FALSE(info.runpath);
      CHECK(std::find(info.needed.begin(), info.needed.end(), "liba.so") != info.needed.end());
    }
  }
  SECTION("static") {
    for (const ElfInfo& info :
         {read_light(bin / "hello_static"), read_elf_file(bin / "hello_static")}) {
      CHECK_FALSE(info.interpreter);
      CHECK(info.needed.empty());
      CHECK_FALSE(info.soname);
      CHECK(info.machine == 62);
    }
  }
  SECTION("musl") {
    for (const ElfInfo& info :
         {read_light(bin / "hello_musl"), read_elf_file(bin / "hello_musl")}) {
      CHECK(info.interpreter == "/lib/ld-musl-x86_64.so.1");
      CHECK(std::find(info.needed.begin(), info.needed.end(), "libx_musl.so") != info.needed.end());
    }
  }
  SECTION("library") {
    const auto lib = kFixtures / "lib" / "libx.so.1.2.3";
    for (const ElfInfo& info : {read_light(lib), read_elf_file(lib)}) {
      CHECK(info.soname == "libx.so.1");
      CHECK(info.type == ObjectType::Dyn);
      CHECK_FALSE(info.interpreter);
    }
  }
}

TEST_CASE("DT_FLAGS_1 NODEFLIB", "[elf]") {
  TempDir dir;
  write_text(dir / "nd.c", "int nd(void) { return 1; }\n");
  // GNU ld spells DF_1_NODEFLIB "-z nodefaultlib" ("-z nodeflib" is ignored with a warning).
  run("cc -shared -fPIC -Wl,-z,nodefaultlib -o " + quote(dir / "libnd.so") + " " +
      quote(dir / "nd.c"));
  run("cc -shared -fPIC -o " + quote(dir / "libplain.so") + " " + quote(dir / "nd.c"));
  REQUIRE_THAT(run("LC_ALL=C readelf -d " + quote(dir / "libnd.so")), Contains("NODEFLIB"));
  CHECK(read_light(dir / "libnd.so").nodeflib());
  CHECK(read_elf_file(dir / "libnd.so").nodeflib());
  CHECK_FALSE(read_light(dir / "libplain.so").nodeflib());
  CHECK_FALSE(read_elf_file(dir / "libplain.so").nodeflib());
}

TEST_CASE("truncated copies are errors naming the file, from both readers", "[elf]") {
  TempDir dir;
  for (const fs::path& original : {kFixtures / "lib" / "libx.so.1.2.3", fs::path("/bin/ls")}) {
    const auto bytes = slurp(original);
    REQUIRE(le(bytes, 4, 1) == 2);  // the offsets below are ELF64's
    const uint64_t phoff = le(bytes, 32, 8), phnum = le(bytes, 56, 2);
    const Range dynamic = section(original, ".dynamic");
    const Range dynstr = section(original, ".dynstr");
    REQUIRE(dynamic.offset > dynstr.offset);  // so a cut in dynstr also drops PT_DYNAMIC
    const std::vector<uint64_t> cuts = {1,
                                        3,
                                        4,
                                        10,
                                        16,
                                        40,
                                        63,
                                        phoff + 1,
                                        phoff + phnum * 56 - 1,
                                        dynstr.offset + 1,
                                        dynstr.offset + dynstr.size - 1,
                                        dynamic.offset + 1,
                                        dynamic.offset + dynamic.size / 2,
                                        dynamic.offset + dynamic.size - 1};
    for (const uint64_t cut : cuts) {
      INFO(original << " cut at " << cut);
      const auto path = dir / (original.filename().string() + ".cut" + std::to_string(cut));
      const std::span<const std::byte> head(bytes.data(), cut);
      write_bytes(path, head);
      check_rejected(path, head);
    }
  }
  const auto cut = dir / "cut-in-phdrs";
  const auto bytes = slurp("/bin/ls");
  write_bytes(cut, std::span(bytes.data(), 100));
  CHECK_THROWS_WITH(read_elf_file(cut.string()),
                    cut.string() + ": truncated ELF file (program headers end at " +
                        std::to_string(64 + le(bytes, 56, 2) * 56) + ", file is 100 bytes)");
}

TEST_CASE("inputs that are not ELF files", "[elf]") {
  TempDir dir;
  SECTION("text") {
    write_text(dir / "notes.txt", "hello, world\n");
    CHECK_THROWS_WITH(read_elf_file((dir / "notes.txt").string()),
                      (dir / "notes.txt").string() + ": not an ELF file");
  }
  SECTION("empty") {
    write_text(dir / "empty", "");
    CHECK_THROWS_WITH(read_elf_file((dir / "empty").string()),
                      Contains((dir / "empty").string() + ": not an ELF file"));
    CHECK_THROWS_AS(read_elf({}, "x"), dslim::Error);
  }
  SECTION("script") {
    write_text(dir / "run.sh", "#!/bin/sh\necho hi\n");
    CHECK_THROWS_WITH(read_elf_file((dir / "run.sh").string()),
                      (dir / "run.sh").string() + ": is a script (#!/bin/sh), not an ELF file");
  }
  SECTION("directory") {
    CHECK_THROWS_WITH(read_elf_file(dir.path().string()),
                      Contains(dir.path().string()) && Contains("directory"));
  }
  SECTION("missing") {
    CHECK_THROWS_WITH(read_elf_file((dir / "nope").string()),
                      (dir / "nope").string() + ": no such file");
  }
  SECTION("device") {
    CHECK_THROWS_WITH(read_elf_file("/dev/null"), "/dev/null: not a regular file");
  }
  SECTION("magic only") {
    write_text(dir / "magic",
               "\x7f"
               "ELF");
    CHECK_THROWS_WITH(read_elf_file((dir / "magic").string()),
                      Contains("magic: truncated ELF file (ELF identification ends at 16"));
  }
}

TEST_CASE("script_interpreter", "[elf]") {
  auto interp = [](const std::string& s) {
    return script_interpreter(std::as_bytes(std::span(s.data(), s.size())));
  };
  CHECK(interp("#!/bin/sh\necho") == "/bin/sh");
  CHECK(interp("#! /usr/bin/env python3\n") == "/usr/bin/env");
  CHECK(interp("#!\t/bin/bash -e\r\n") == "/bin/bash");
  CHECK(interp("#!") == "");
  CHECK_FALSE(
      interp("\x7f"
             "ELF"));
  CHECK_FALSE(interp("#"));
  CHECK_FALSE(interp(""));
}

TEST_CASE("patched class or byte order is rejected or read without crashing", "[elf]") {
  TempDir dir;
  for (const fs::path& original :
       {kFixtures / "lib" / "libx.so.1.2.3", fs::path("/lib/x86_64-linux-gnu/libc.so.6")}) {
    for (const auto& [at, value] : {std::pair{4, 1}, std::pair{5, 2}, std::pair{4, 3}}) {
      INFO(original << " byte " << at << " = " << value);
      auto bytes = slurp(original);
      bytes[at] = static_cast<std::byte>(value);
      const auto path = dir / ("patched-" + std::to_string(at) + std::to_string(value));
      write_bytes(path, bytes);
      for (int reader = 0; reader < 2; ++reader) {
        try {
          const ElfInfo info = reader == 0 ? read_elf(bytes, path.string()) : read_elf_file(path);
          if (at == 4) CHECK(info.elf_class == ElfClass::Elf32);
          if (at == 5) CHECK_FALSE(info.little_endian);
        } catch (const dslim::Error& e) {
          CHECK_THAT(e.what(), Contains(path.string()));
        }
      }
    }
  }
}

TEST_CASE("synthetic 32/64-bit, little/big-endian files", "[elf]") {
  TempDir dir;
  for (const bool is64 : {true, false}) {
    for (const bool little : {true, false}) {
      Synthetic s;
      s.is64 = is64;
      s.little = little;
      s.machine = is64 ? (little ? 183 : 21) : (little ? 40 : 8);
      s.osabi = 3;
      INFO("64-bit " << is64 << ", little-endian " << little);
      const auto bytes = make_elf(s);
      check_synthetic(read_elf(bytes, "synthetic"), s);
      // readelf must read the same file the same way, or the writer is wrong.
      const auto path = dir / ("syn" + std::to_string(is64) + std::to_string(little));
      write_bytes(path, bytes);
      check_matches(read_elf(bytes, "synthetic"), readelf(path));
      // LIEF 0.9 reads all four layouts, even with no section headers.
      check_same(read_elf(bytes, "synthetic"), read_elf_file(path));
    }
  }
  SECTION("platforms") {
    Synthetic s;
    s.is64 = false;
    s.machine = 40;
    const auto p = platform_of(read_elf(make_elf(s), "arm"));
    CHECK(p.architecture == "arm");
    CHECK(p.variant == "v7");
    CHECK(p.os == "linux");
  }
}

TEST_CASE("malformed synthetic files name what is wrong", "[elf]") {
  Synthetic s;
  auto message = [](const Synthetic& bad) {
    try {
      (void)read_elf(make_elf(bad), "bad.so");
    } catch (const dslim::Error& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  Synthetic t = s;
  t.interp_nul = false;
  CHECK(message(t) == "bad.so: PT_INTERP is not NUL-terminated");
  t = s;
  t.with_strtab = false;
  CHECK_THAT(message(t), Contains("no DT_STRTAB"));
  t = s;
  t.strtab_address = 0x10;
  CHECK(message(t) == "bad.so: DT_STRTAB address 0x10 is not inside any PT_LOAD segment");
  t = s;
  t.needed_offset = 52;
  CHECK(message(t) ==
        "bad.so: DT_NEEDED string offset 52 is outside the dynamic string table (52 bytes)");
  t = s;
  t.strsz = 5;  // cuts "libfoo.so.1" short
  CHECK(message(t) == "bad.so: DT_NEEDED string at offset 1 is not NUL-terminated");
  t = s;
  t.strsz = 1u << 30;
  CHECK_THAT(message(t), Contains("bad.so: truncated ELF file (dynamic string table ends at"));
  t = s;
  t.phentsize = 40;
  CHECK(message(t) == "bad.so: program header entry size is 40, expected 56");
  t = s;
  t.phnum = 0xffff;
  CHECK_THAT(message(t), Contains("extended program header numbering"));
  t = s;
  t.phnum = 0;  // no program headers: a valid, if useless, object
  CHECK(message(t) == "accepted");
  CHECK_FALSE(read_elf(make_elf(t), "x").has_dynamic);
}

TEST_CASE("random mutations only ever succeed or throw dslim::Error", "[elf][fuzz]") {
  fuzz_light(slurp(kFixtures / "lib" / "libx.so.1.2.3"), 2000, 1, mutate);
  Synthetic be32;
  be32.is64 = false;
  be32.little = false;
  fuzz_light(make_elf(be32), 2000, 2, mutate);
  fuzz_light(make_elf(Synthetic{}), 2000, 3, mutate);

  // The LIEF path too: the light checks must keep LIEF away from what would crash it.
  TempDir dir;
  const auto original = slurp(kFixtures / "lib" / "libx.so.1.2.3");
  std::mt19937 rng(4);
  for (int i = 0; i < 150; ++i) {
    const auto path = dir / "mutant.so";
    write_bytes(path, mutate(original, rng));
    try {
      (void)read_elf_file(path);
    } catch (const dslim::Error& e) {
      CHECK_THAT(e.what(), Contains(path.string()));
    }
  }
}

TEST_CASE("platform_of and machine_name", "[elf]") {
  auto platform = [](uint16_t machine, ElfClass cls, bool little = true) {
    ElfInfo info;
    info.machine = machine;
    info.elf_class = cls;
    info.little_endian = little;
    const Platform p = platform_of(info);
    return p.architecture + (p.variant.empty() ? "" : "/" + p.variant);
  };
  CHECK(platform(62, ElfClass::Elf64) == "amd64");
  CHECK(platform(183, ElfClass::Elf64) == "arm64");
  CHECK(platform(40, ElfClass::Elf32) == "arm/v7");
  CHECK(platform(3, ElfClass::Elf32) == "386");
  CHECK(platform(21, ElfClass::Elf64) == "ppc64le");
  CHECK(platform(21, ElfClass::Elf64, false) == "ppc64");
  CHECK(platform(22, ElfClass::Elf64, false) == "s390x");
  CHECK(platform(243, ElfClass::Elf64) == "riscv64");
  CHECK(platform(8, ElfClass::Elf32) == "mipsle");
  CHECK(platform(1234, ElfClass::Elf64).empty());
  CHECK(machine_name(62) == "x86-64");
  CHECK(machine_name(183) == "AArch64");
  CHECK(machine_name(1234) == "EM_1234");
}

TEST_CASE("fuzz crash inputs are dslim::Error before LIEF sees them", "[elf][fuzz]") {
  for (const auto& path : fuzz_crash_inputs("elf_lief")) {
    INFO(path);
    CHECK_THROWS_WITH(read_elf_file(path), Contains(path.string() + ": malformed ELF file"));
  }
}

TEST_CASE("a string table without a NUL is scanned in few reads", "[elf]") {
  // What a windowed source is asked for, each ask a read of the file.
  class Counting : public dslim::elf::detail::ByteSource {
   public:
    explicit Counting(std::vector<std::byte> bytes) : bytes_(std::move(bytes)) {}
    uint64_t size() const override { return bytes_.size(); }
    const std::byte* data(uint64_t offset, uint64_t) const override {
      ++asks;
      return bytes_.data() + offset;
    }
    mutable int asks = 0;

   private:
    std::vector<std::byte> bytes_;
  };
  std::vector<std::byte> bytes(4 << 20, std::byte{'x'});
  Counting source(bytes);
  const dslim::elf::detail::ByteView view(source, true);
  CHECK(view.find_nul(0, bytes.size()) == bytes.size());
  // Steps of 256 bytes doubling to 64 KiB: 71 asks for 4 MiB, not 16,384.
  CHECK(source.asks < 100);
  bytes[300] = std::byte{0};
  Counting short_one(bytes);
  CHECK(dslim::elf::detail::ByteView(short_one, true).find_nul(0, bytes.size()) == 300);
  CHECK(short_one.asks == 2);  // a name's length first, then twice that
}

// --- the symbol and version tables ---

namespace {

// What readelf says of a file's dynamic symbols: "name" or "name@VERSION"
// per entry (readelf prints @@ for a default version, @ otherwise), and
// whether each is defined.
struct ReadelfSymbol {
  std::string name, version;
  bool defined;
};

std::vector<ReadelfSymbol> readelf_symbols(const fs::path& path) {
  const std::string out = run("LC_ALL=C readelf --dyn-syms -W " + quote(path));
  static const std::regex row(R"(^\s*\d+: [0-9a-f]+\s+\d+\s+\S+\s+\S+\s+\S+\s+(\S+)\s?(.*)$)");
  std::vector<ReadelfSymbol> symbols;
  std::istringstream lines(out);
  std::string line;
  std::smatch m;
  bool first = true;
  while (std::getline(lines, line)) {
    if (!std::regex_search(line, m, row)) continue;
    if (first) {  // the null symbol
      first = false;
      continue;
    }
    std::string name = m[2];
    if (auto paren = name.find(" ("); paren != std::string::npos) name.resize(paren);
    std::string version;
    if (auto at = name.find('@'); at != std::string::npos) {
      version = name.substr(name.find_first_not_of('@', at));
      name.resize(at);
    }
    symbols.push_back({name, version, m[1] != "UND"});
  }
  return symbols;
}

SymbolTable symbols_of(const fs::path& path) {
  const auto bytes = slurp(path);
  const ElfInfo info = read_elf(bytes, path.string());
  SymbolTable table;
  table.read(info, bytes, path.string());
  return table;
}

// Every symbol of `path`: its name, whether it is defined, its version and
// its GNU hash, as readelf sees them.
void check_against_readelf(const fs::path& path) {
  INFO(path);
  const SymbolTable table = symbols_of(path);
  const auto expected = readelf_symbols(path);
  REQUIRE(table.size() == expected.size());
  for (size_t i = 0; i < table.size(); ++i) {
    const Symbol s = table.symbol(i);
    INFO(expected[i].name);
    CHECK(table.name(s) == expected[i].name);
    CHECK(s.defined == expected[i].defined);
    // readelf names a version only where .gnu.version has one (index > 1),
    // and not for the symbols that name versions themselves (ABS "V_1").
    const std::string_view version = table.versions().name(s.versym);
    CHECK((version == expected[i].version ||
           (expected[i].version.empty() && version == expected[i].name)));
    CHECK(table.hash31(i) == gnu_hash(expected[i].name) >> 1);
  }
}

}  // namespace

TEST_CASE("symbol tables agree with readelf on real files", "[elf][symbols]") {
  std::vector<fs::path> files = {"/usr/bin/ls",
                                 "/usr/lib/x86_64-linux-gnu/libc.so.6",
                                 "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
                                 kFixtures / "ver/new/lib/libver.so.1",
                                 kFixtures / "ver/gone/lib/libver.so.1",
                                 kFixtures / "bin/lookup_cgo",  // Go: DT_HASH, no DT_GNU_HASH
                                 kFixtures / "bin/hello_musl"};
  for (const auto& path : files) check_against_readelf(path);
}

TEST_CASE("symbol tables of 32-bit and big-endian objects agree with readelf", "[elf][symbols]") {
  // clang and lld (scripts/bootstrap installs both) link for any target.
  TempDir dir;
  write_text(dir / "x.c",
             "int v1(void) { return 1; }\nint v2(void) { return 2; }\n"
             "extern int ext(void);\nint use(void) { return ext(); }\n");
  write_text(dir / "x.map", "V_1 { global: v1; local: *; };\nV_2 { global: v2; use; } V_1;\n");
  for (const char* target : {"i386-linux-gnu", "powerpc-linux-gnu", "powerpc64-linux-gnu"}) {
    for (const char* hash : {"gnu", "sysv"}) {
      INFO(target << " " << hash);
      const fs::path out = dir / (std::string(target) + "-" + hash + ".so");
      run("clang-14 --target=" + std::string(target) +
          " -fuse-ld=lld -shared -nostdlib -fPIC -Wl,--hash-style=" + hash +
          " -Wl,--version-script=" + quote(dir / "x.map") + " " + quote(dir / "x.c") + " -o " +
          quote(out));
      check_against_readelf(out);
      const SymbolTable table = symbols_of(out);
      CHECK(table.versions().defined() == std::vector<std::string>{"V_1", "V_2"});
    }
  }
}

TEST_CASE("version definitions and needs", "[elf][symbols]") {
  const SymbolTable libver = symbols_of(kFixtures / "ver/new/lib/libver.so.1");
  CHECK(libver.versions().defined() == std::vector<std::string>{"V_1", "V_2"});
  CHECK(libver.versions().defines("V_2"));
  CHECK(!libver.versions().defines("libver.so.1"));  // the base entry is the object's name
  const SymbolTable app = symbols_of(kFixtures / "ver/new/bin/app_ver_two");
  const VersionNeed* need = nullptr;
  for (const auto& n : app.versions().needs())
    if (n.file == "libver.so.1") need = &n;
  REQUIRE(need != nullptr);
  REQUIRE(need->versions.size() == 1);
  CHECK(need->versions[0].name == "V_2");
  CHECK(app.versions().need_of(need->versions[0].index) == need);
  // No version tables at all: every symbol is unversioned.
  const SymbolTable gone = symbols_of(kFixtures / "ver/gone/lib/libver.so.1");
  CHECK(gone.versions().defs().empty());
  CHECK(gone.versions().needs().empty());
  // A table read again into the same buffers is the new file's only.
  SymbolTable reused;
  const auto bytes = slurp(kFixtures / "ver/new/lib/libver.so.1");
  reused.read(read_elf(bytes, "new"), bytes, "new");
  const auto gone_bytes = slurp(kFixtures / "ver/gone/lib/libver.so.1");
  reused.read(read_elf(gone_bytes, "gone"), gone_bytes, "gone");
  CHECK(reused.size() == gone.size());
  CHECK(reused.versions().defs().empty());
  for (size_t i = 0; i < reused.size(); ++i) CHECK(reused.symbol(i).versym == kVerNdxGlobal);
}

TEST_CASE("hostile symbol and version tables are errors naming the file", "[elf][symbols]") {
  const auto bytes = slurp(kFixtures / "ver/new/bin/app_ver_two");
  const ElfInfo info = read_elf(bytes, "app");
  REQUIRE(info.tables.verneed != 0);
  auto read_with = [&](const ElfInfo& patched, std::span<const std::byte> b) {
    SymbolTable table;
    table.read(patched, b, "app");
  };
  SECTION("a DT_VERNEEDNUM past what version indices allow") {
    ElfInfo patched = info;
    patched.tables.verneednum = 100000;
    CHECK_THROWS_WITH(read_with(patched, bytes), Contains("app: DT_VERNEED claims 100000 entries"));
  }
  SECTION("a vn_next chain running out of the file") {
    ElfInfo patched = info;
    patched.tables.verneednum = 0;  // followed to a zero link, as the loader does
    auto b = bytes;
    const uint32_t far = 0x7fffff00;
    std::memcpy(&b[info.tables.verneed + 12], &far, 4);
    CHECK_THROWS_WITH(read_with(patched, b), Contains("app: truncated ELF file (DT_VERNEED"));
  }
  SECTION("a vn_next chain that steps forever inside the file") {
    ElfInfo patched = info;
    patched.tables.verneednum = 0;
    // A file of copies of one 16-byte entry whose vn_next is 16: the chain
    // never ends; it is cut at the 15-bit bound of version indices.
    std::vector<std::byte> b(16 * 40000);
    const uint16_t version = 1, count = 0;
    const uint32_t file = 0, aux = 0, next = 16;
    for (size_t at = 0; at < b.size(); at += 16) {
      std::memcpy(&b[at], &version, 2);
      std::memcpy(&b[at + 2], &count, 2);
      std::memcpy(&b[at + 4], &file, 4);
      std::memcpy(&b[at + 8], &aux, 4);
      std::memcpy(&b[at + 12], &next, 4);
    }
    patched.tables = {};
    patched.tables.symtab = 16;
    patched.tables.strtab = 32;
    patched.tables.strsz = 16;
    patched.tables.verneed = 64;
    CHECK_THROWS_WITH(read_with(patched, b), Contains("chain does not end within 32767 entries"));
  }
  SECTION("a string table past the end of the file") {
    ElfInfo patched = info;
    patched.tables.strsz = bytes.size();
    CHECK_THROWS_WITH(read_with(patched, bytes),
                      Contains("app: truncated ELF file (dynamic string table"));
  }
  SECTION("a hash table claiming more symbols than the file holds") {
    ElfInfo patched = info;
    patched.tables.gnu_hash = 0;
    patched.tables.hash = info.tables.symtab;  // nchain read from the symbol table's bytes
    auto b = bytes;
    const uint32_t nchain = 0x10000000;
    std::memcpy(&b[info.tables.symtab + 4], &nchain, 4);
    CHECK_THROWS_WITH(read_with(patched, b), Contains("larger than the file"));
  }
  SECTION("an address no PT_LOAD holds") {
    ElfInfo patched = info;
    patched.tables.versym = DynamicTables::kUnmapped;
    CHECK_THROWS_WITH(read_with(patched, bytes),
                      Contains("app: DT_VERSYM address is not inside any PT_LOAD"));
  }
}

TEST_CASE("random mutations of symbol tables only ever succeed or throw dslim::Error",
          "[elf][symbols][fuzz]") {
  const auto original = slurp(kFixtures / "ver/new/bin/app_ver_two");
  const ElfInfo info = read_elf(original, "app");
  // Mutations inside the tables' span, where they matter.
  const uint64_t lo = std::min({info.tables.gnu_hash, info.tables.symtab, info.tables.strtab});
  const uint64_t hi = std::min<uint64_t>(original.size(), info.tables.verneed + 256);
  std::mt19937 rng(7);
  SymbolTable table;  // one table, read again and again, as the checks do
  for (int round = 0; round < 3000; ++round) {
    auto bytes = original;
    for (int flips = 1 + rng() % 8; flips > 0; --flips)
      bytes[lo + rng() % (hi - lo)] = std::byte(rng());
    try {
      const ElfInfo mutated = read_elf(bytes, "app");
      table.read(mutated, bytes, "app");
      for (size_t i = 0; i < table.size(); ++i) {
        (void)table.name(table.symbol(i));
        (void)table.hash31(i);
        (void)table.versions().name(table.symbol(i).versym);
      }
    } catch (const dslim::Error&) {
    }
  }
}
