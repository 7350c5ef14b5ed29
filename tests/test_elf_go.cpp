// Tests for the section header reader and the Go reader: against readelf and
// `go tool nm` on Go programs built here (static, stripped, PIE, cgo,
// external linking, 32-bit and big-endian), against Go's own debug/gosym on
// its Go 1.15 test table, on synthetic tables of every pclntab format, and on
// truncated and randomly mutated copies.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "dslim/elf_sections.hpp"
#include "dslim/error.hpp"
#include "dslim/go_binary.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace dslim::elf;
using dslim::test::have_tool;
using dslim::test::run;
using dslim::test::TempDir;

namespace {

const fs::path kFixtures = DSLIM_FIXTURE_DIR;

using Bytes = std::vector<std::byte>;

Bytes slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), {});
  Bytes out(chars.size());
  if (!chars.empty()) std::memcpy(out.data(), chars.data(), chars.size());
  return out;
}

void write_bytes(const fs::path& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out);
}

std::string quote(const fs::path& path) {
  return "'" + path.string() + "'";
}

// Reads of the bytes. A read outside them is a bug in the reader (it must
// check first), so it throws something other than dslim::Error: the hostile
// input tests, which accept dslim::Error, then fail.
struct Reads {
  int count = 0;
  uint64_t bytes = 0;
};

ReadAt reader_over(std::span<const std::byte> bytes, Reads* reads = nullptr) {
  return [bytes, reads](uint64_t offset, std::span<std::byte> out) {
    if (offset > bytes.size() || out.size() > bytes.size() - offset)
      throw std::logic_error("read outside the file at " + std::to_string(offset));
    if (!out.empty()) std::memcpy(out.data(), bytes.data() + offset, out.size());
    if (reads != nullptr) {
      ++reads->count;
      reads->bytes += out.size();
    }
  };
}

std::optional<GoBinary> read_go(std::span<const std::byte> bytes,
                                const std::string& name = "test") {
  return read_go_binary(bytes.size(), reader_over(bytes), name);
}

std::vector<Section> sections_of(std::span<const std::byte> bytes,
                                 const std::string& name = "test") {
  return read_sections(bytes.size(), reader_over(bytes), name);
}

const Section* find_section(const std::vector<Section>& sections, const std::string& name) {
  for (const auto& s : sections)
    if (s.name == name) return &s;
  return nullptr;
}

// ---- Go programs, built once per test process into one temp dir

// Needs user.Current (os/user) and time.LoadLocation, nothing of net.
constexpr const char* kUserTimeProgram = R"(package main

import (
	"fmt"
	"os/user"
	"time"
)

func main() {
	u, err := user.Current()
	fmt.Println(u, err)
	loc, err := time.LoadLocation("Europe/Paris")
	fmt.Println(loc, err)
}
)";

constexpr const char* kTinyProgram = R"(package main

import "os"

func main() { os.Stdout.WriteString("hello\n") }
)";

// Whether `tool` is installed; if not, the test says it skipped (under CI a
// missing tool fails it instead: have_tool throws).
bool need(const std::string& tool) {
  if (have_tool(tool)) return true;
  WARN("skipped: " << tool << " is not installed (scripts/bootstrap)");
  return false;
}

class GoBuilds {
 public:
  // Builds `program` with `env` (e.g. "CGO_ENABLED=0") and `flags` once,
  // and returns the binary's path.
  const fs::path& build(const std::string& key, const std::string& program, const std::string& env,
                        const std::string& flags) {
    if (auto it = built_.find(key); it != built_.end()) return it->second;
    const fs::path src = dir_.path() / (key + ".go");
    std::ofstream(src) << program;
    const fs::path out = dir_.path() / key;
    run(command(env, "build " + flags + " -o " + quote(out) + " " + quote(src)));
    return built_.emplace(key, out).first->second;
  }

  // Several builds of `program` at once (cross builds each compile the
  // standard library, a few seconds each): {key, env}.
  void build_parallel(const std::string& program,
                      const std::vector<std::pair<std::string, std::string>>& jobs) {
    std::string script = "set -e; pids=;";
    for (const auto& [key, env] : jobs) {
      const fs::path src = dir_.path() / (key + ".go");
      std::ofstream(src) << program;
      script += " (" + command(env, "build -o " + quote(dir_.path() / key) + " " + quote(src)) +
                ") & pids=\"$pids $!\";";
    }
    script += " for p in $pids; do wait $p; done";
    run("bash -c " + shell_quote(script));
    for (const auto& job : jobs) built_.emplace(job.first, dir_.path() / job.first);
  }

  const fs::path& path(const std::string& key) const { return built_.at(key); }

  std::string go(const std::string& args) { return run(command("", args)); }

  static GoBuilds& instance() {
    static GoBuilds builds;
    return builds;
  }

 private:
  // The fixtures' environment: nothing from the user's Go set-up or module
  // mode. Their build cache too (fixtures/CMakeLists.txt): the standard
  // library compiled once per build tree, not once per run (~15 s).
  std::string command(const std::string& env, const std::string& args) const {
    return "cd " + quote(dir_.path()) + " && env GO111MODULE=off GOFLAGS= GOTOOLCHAIN=local " +
           "GOCACHE=" + quote(kFixtures / "go" / "cache") +
           " GOPATH=" + quote(dir_.path() / "path") + " HOME=" + quote(dir_.path()) +
           " CGO_CFLAGS= CGO_LDFLAGS= " + env + " go " + args + " 2>&1";
  }
  static std::string shell_quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
  }

  TempDir dir_;
  std::map<std::string, fs::path> built_;
};

std::string go_version() {
  std::string v = GoBuilds::instance().go("env GOVERSION");
  while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.pop_back();
  return v;
}

// A function name with everything between its first '[' and last ']' as
// "[...]", as some Go versions (1.19 among them) write generic names into the
// pclntab (cmd/link's nameParts): applied to both sides of a comparison.
std::string abbreviated(std::string name) {
  if (const auto open = name.find('['), close = name.rfind(']');
      open != std::string::npos && close != std::string::npos && close > open)
    name = name.substr(0, open) + "[...]" + name.substr(close + 1);
  return name;
}

std::vector<std::string> abbreviated(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  for (const auto& n : names) out.push_back(abbreviated(n));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// The names `go tool nm` prints as text symbols, spelt as the pclntab spells
// them: without the ".abi0" of assembly functions, and abbreviated();
// runtime.text and runtime.etext mark the text's ends, not functions.
std::vector<std::string> nm_functions(const fs::path& binary) {
  const std::string out = GoBuilds::instance().go("tool nm " + quote(binary));
  std::vector<std::string> names;
  std::istringstream lines(out);
  std::string line;
  static const std::regex row(R"(^\s*[0-9a-f]*\s+([Tt])\s+(.+)$)");
  std::smatch m;
  while (std::getline(lines, line)) {
    if (!std::regex_match(line, m, row)) continue;
    std::string name = m[2];
    if (name.ends_with(".abi0")) name.resize(name.size() - 5);
    if (name == "runtime.text" || name == "runtime.etext") continue;
    names.push_back(name);
  }
  return abbreviated(names);
}

std::vector<std::string> missing_from(const std::vector<std::string>& wanted,
                                      const std::vector<std::string>& have) {
  std::vector<std::string> out;
  std::set_difference(wanted.begin(), wanted.end(), have.begin(), have.end(),
                      std::back_inserter(out));
  return out;
}

// ---- readelf -SW as the oracle for read_sections

struct ReadelfSection {
  std::string name, type;
  uint64_t addr = 0, offset = 0, size = 0;
};

std::vector<ReadelfSection> readelf_sections(const fs::path& path) {
  const std::string out = run("LC_ALL=C readelf -SW " + quote(path) + " 2>/dev/null");
  std::vector<ReadelfSection> rows;
  std::istringstream lines(out);
  std::string line;
  static const std::regex row(R"(^\s*\[\s*(\d+)\]\s(.*)$)");
  std::smatch m;
  while (std::getline(lines, line)) {
    if (!std::regex_match(line, m, row)) continue;
    std::istringstream fields(m[2].str());
    std::vector<std::string> f{std::istream_iterator<std::string>(fields), {}};
    if (std::stoul(m[1]) == 0 && !f.empty() && f[0] == "NULL") f.insert(f.begin(), "");
    REQUIRE(f.size() >= 5);
    rows.push_back({f[0], f[1], std::stoull(f[2], nullptr, 16), std::stoull(f[3], nullptr, 16),
                    std::stoull(f[4], nullptr, 16)});
  }
  return rows;
}

const std::map<std::string, uint32_t>& readelf_types() {
  static const std::map<std::string, uint32_t> types{{"NULL", 0},
                                                     {"PROGBITS", 1},
                                                     {"SYMTAB", 2},
                                                     {"STRTAB", 3},
                                                     {"RELA", 4},
                                                     {"HASH", 5},
                                                     {"DYNAMIC", 6},
                                                     {"NOTE", 7},
                                                     {"NOBITS", 8},
                                                     {"REL", 9},
                                                     {"DYNSYM", 11},
                                                     {"INIT_ARRAY", 14},
                                                     {"FINI_ARRAY", 15},
                                                     {"GNU_HASH", 0x6ffffff6},
                                                     {"VERSYM", 0x6fffffff},
                                                     {"VERNEED", 0x6ffffffe},
                                                     {"VERDEF", 0x6ffffffd}};
  return types;
}

void check_against_readelf(const fs::path& path) {
  INFO(path);
  const Bytes bytes = slurp(path);
  const auto sections = sections_of(bytes, path.string());
  const auto expected = readelf_sections(path);
  REQUIRE(sections.size() == expected.size());
  REQUIRE(!sections.empty());
  for (size_t i = 0; i < sections.size(); ++i) {
    INFO("section " << i);
    CHECK(sections[i].name == expected[i].name);
    CHECK(sections[i].addr == expected[i].addr);
    CHECK(sections[i].offset == expected[i].offset);
    CHECK(sections[i].size == expected[i].size);
    if (auto t = readelf_types().find(expected[i].type); t != readelf_types().end())
      CHECK(sections[i].type == t->second);
  }
}

// ---- synthetic ELF files: any class and byte order, chosen sections

class Writer {
 public:
  explicit Writer(bool little) : little_(little) {}
  void put(uint64_t at, uint64_t value, size_t width) {
    if (bytes_.size() < at + width) bytes_.resize(at + width);
    for (size_t i = 0; i < width; ++i) {
      const size_t shift = 8 * (little_ ? i : width - 1 - i);
      bytes_[at + i] = static_cast<std::byte>((value >> shift) & 0xff);
    }
  }
  void append(uint64_t value, size_t width) { put(bytes_.size(), value, width); }
  void text(uint64_t at, std::string_view s) {
    if (bytes_.size() < at + s.size()) bytes_.resize(at + s.size());
    if (!s.empty()) std::memcpy(bytes_.data() + at, s.data(), s.size());
  }
  void append_text(std::string_view s) { text(bytes_.size(), s); }
  void pad_to(uint64_t size) {
    if (bytes_.size() < size) bytes_.resize(size);
  }
  void align(uint64_t n) { pad_to((bytes_.size() + n - 1) / n * n); }
  uint64_t size() const { return bytes_.size(); }
  Bytes& bytes() { return bytes_; }

 private:
  bool little_;
  Bytes bytes_;
};

constexpr uint64_t kBase = 0x400000;
constexpr uint32_t kShtProgbits = 1, kShtStrtab = 3, kShtNote = 7;
constexpr uint64_t kShfWrite = 1, kShfAlloc = 2;

class SyntheticElf {
 public:
  SyntheticElf(bool is64, bool little) : is64_(is64), little_(little) {}

  // Adds a section at the next 4 KiB boundary (address = kBase + offset);
  // returns its index (from 1).
  size_t add(const std::string& name, uint32_t type, uint64_t flags, Bytes data) {
    const uint64_t offset = next_;
    next_ = (offset + data.size() + 0xfff) / 0x1000 * 0x1000 + 0x1000;
    sections_.push_back({name, type, flags, offset, std::move(data)});
    return sections_.size();
  }
  uint64_t offset_of(size_t index) const { return sections_.at(index - 1).offset; }
  uint64_t addr_of(size_t index) const { return kBase + offset_of(index); }
  Bytes& data(size_t index) { return sections_.at(index - 1).data; }
  // A PT_LOAD segment over exactly that section.
  void load(size_t index, uint32_t flags) { loads_.push_back({index, flags}); }
  // e_shnum 0 and e_shstrndx SHN_XINDEX, with the values in section 0.
  void extended_numbering() { extended_ = true; }
  void no_section_headers() { headers_ = false; }

  Bytes build() const {
    Writer w(little_);
    const uint64_t ehsize = is64_ ? 64 : 52, phsize = is64_ ? 56 : 32, shsize = is64_ ? 64 : 40;
    const unsigned word = is64_ ? 8 : 4;
    w.pad_to(0x1000);
    std::string shstrtab(1, '\0');
    std::vector<uint64_t> name_at;
    for (const auto& s : sections_) {
      name_at.push_back(shstrtab.size());
      shstrtab += s.name + '\0';
    }
    const uint64_t shstrtab_name = shstrtab.size();
    shstrtab += ".shstrtab";
    shstrtab += '\0';
    for (const auto& s : sections_)
      w.text(s.offset, {reinterpret_cast<const char*>(s.data.data()), s.data.size()});
    w.pad_to(next_);
    const uint64_t shstrtab_at = w.size();
    w.append_text(shstrtab);
    w.align(8);
    const uint64_t shoff = w.size();
    const uint64_t count = sections_.size() + 2;
    if (headers_) {
      // Section 0: zeros, or the counts for extended numbering.
      const uint64_t s0 = shoff;
      w.pad_to(shoff + count * shsize);
      if (extended_) {
        w.put(s0 + (is64_ ? 32 : 20), count, word);   // sh_size
        w.put(s0 + (is64_ ? 40 : 24), count - 1, 4);  // sh_link
      }
      auto header = [&](uint64_t at, uint64_t name, uint32_t type, uint64_t flags, uint64_t addr,
                        uint64_t offset, uint64_t size) {
        w.put(at, name, 4);
        w.put(at + 4, type, 4);
        w.put(at + 8, flags, word);
        w.put(at + (is64_ ? 16 : 12), addr, word);
        w.put(at + (is64_ ? 24 : 16), offset, word);
        w.put(at + (is64_ ? 32 : 20), size, word);
        w.put(at + (is64_ ? 48 : 32), 1, word);  // sh_addralign
      };
      for (size_t i = 0; i < sections_.size(); ++i) {
        const auto& s = sections_[i];
        header(shoff + (i + 1) * shsize, name_at[i], s.type, s.flags,
               (s.flags & kShfAlloc) != 0 ? kBase + s.offset : 0, s.offset, s.data.size());
      }
      header(shoff + (count - 1) * shsize, shstrtab_name, kShtStrtab, 0, 0, shstrtab_at,
             shstrtab.size());
    }
    // ELF header and program headers.
    w.text(0, "\177ELF");
    w.put(4, is64_ ? 2 : 1, 1);
    w.put(5, little_ ? 1 : 2, 1);
    w.put(6, 1, 1);
    w.put(16, 2, 2);               // ET_EXEC
    w.put(18, is64_ ? 62 : 8, 2);  // x86-64 or MIPS
    w.put(20, 1, 4);
    w.put(is64_ ? 32 : 28, ehsize, word);  // e_phoff
    w.put(is64_ ? 40 : 32, headers_ ? shoff : 0, word);
    w.put(is64_ ? 52 : 40, ehsize, 2);
    w.put(is64_ ? 54 : 42, phsize, 2);
    w.put(is64_ ? 56 : 44, loads_.size(), 2);
    w.put(is64_ ? 58 : 46, shsize, 2);
    w.put(is64_ ? 60 : 48, headers_ && !extended_ ? count : 0, 2);
    w.put(is64_ ? 62 : 50, !headers_ ? 0 : extended_ ? 0xffff : count - 1, 2);
    for (size_t i = 0; i < loads_.size(); ++i) {
      const uint64_t at = ehsize + i * phsize;
      const auto& s = sections_.at(loads_[i].first - 1);
      w.put(at, 1, 4);  // PT_LOAD
      w.put(at + (is64_ ? 4 : 24), loads_[i].second, 4);
      w.put(at + (is64_ ? 8 : 4), s.offset, word);
      w.put(at + (is64_ ? 16 : 8), kBase + s.offset, word);
      w.put(at + (is64_ ? 24 : 12), kBase + s.offset, word);
      w.put(at + (is64_ ? 32 : 16), s.data.size(), word);
      w.put(at + (is64_ ? 40 : 20), s.data.size(), word);
      w.put(at + (is64_ ? 48 : 28), 0x1000, word);
    }
    return std::move(w.bytes());
  }

 private:
  struct Entry {
    std::string name;
    uint32_t type;
    uint64_t flags, offset;
    Bytes data;
  };
  bool is64_, little_;
  bool extended_ = false, headers_ = true;
  uint64_t next_ = 0x1000;
  std::vector<Entry> sections_;
  std::vector<std::pair<size_t, uint32_t>> loads_;
};

// ---- synthetic pclntabs of each format

enum class Pcln { Go12, Go116, Go118, Go120 };

struct PclnSpec {
  Pcln format = Pcln::Go118;
  bool little = true;
  unsigned ptrsize = 8;
  // The functions, in function-table order; a repeated name shares its
  // string in Go 1.16+ (the linker writes each name once).
  std::vector<std::string> functions;
  // Names in the Go 1.16+ name table that no function record points at (the
  // names of inlined functions): not functions of the binary.
  std::vector<std::string> inlined;
};

Bytes make_pclntab(const PclnSpec& spec) {
  Writer w(spec.little);
  const unsigned ps = spec.ptrsize;
  const uint64_t n = spec.functions.size();
  const uint32_t magic = spec.format == Pcln::Go12    ? 0xfffffffb
                         : spec.format == Pcln::Go116 ? 0xfffffffa
                         : spec.format == Pcln::Go118 ? 0xfffffff0
                                                      : 0xfffffff1;
  w.put(0, magic, 4);
  w.put(4, 0, 2);
  w.put(6, 1, 1);  // pc quantum
  w.put(7, ps, 1);
  if (spec.format == Pcln::Go12) {
    // nfunc, functab {pc, funcoff} * n + end pc, filetab offset, then each
    // record with its name right after it (as the old linker interleaved them).
    w.put(8, n, ps);
    const uint64_t functab = 8 + ps;
    const uint64_t records = functab + (2 * n + 1) * ps + 4;
    w.pad_to(records);
    for (uint64_t i = 0; i < n; ++i) {
      w.align(ps);
      const uint64_t rec = w.size();
      w.put(functab + 2 * i * ps, 0x401000 + 16 * i, ps);
      w.put(functab + (2 * i + 1) * ps, rec, ps);
      w.put(rec, 0x401000 + 16 * i, ps);  // entry
      w.put(rec + ps, rec + ps + 32, 4);  // nameoff: after the record's fields
      w.pad_to(rec + ps + 32);
      w.append_text(spec.functions[i]);
      w.append(0, 1);
    }
    w.put(functab + 2 * n * ps, 0x401000 + 16 * n, ps);
    w.put(functab + (2 * n + 1) * ps, w.size(), 4);  // filetab offset
    w.append(0, 4);
    return std::move(w.bytes());
  }
  const bool go118 = spec.format != Pcln::Go116;
  const unsigned words = go118 ? 8 : 7;
  const uint64_t header = 8 + words * ps;
  w.pad_to(header);
  // The name table: inlined names first, so a name offset of 0 is not a function.
  std::map<std::string, uint64_t> name_at;
  const uint64_t names = w.size();
  for (const auto& list : {spec.inlined, spec.functions}) {
    for (const auto& name : list) {
      if (name_at.count(name) != 0) continue;
      name_at[name] = w.size() - names;
      w.append_text(name);
      w.append(0, 1);
    }
  }
  const uint64_t cu = w.size();
  w.append(0, 4);
  const uint64_t filetab = w.size();
  w.append_text(std::string("a.go\0", 5));
  const uint64_t pctab = w.size();
  w.append(0, 2);
  w.align(ps);
  const uint64_t pcln = w.size();
  const unsigned field = go118 ? 4 : ps;
  const uint64_t record_size = (go118 ? 4 : ps) + 36;
  const uint64_t first_record = (2 * n + 1) * field;
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t rec = (first_record + ps - 1) / ps * ps + i * record_size;
    w.put(pcln + 2 * i * field, go118 ? 16 * i : 0x401000 + 16 * i, field);
    w.put(pcln + (2 * i + 1) * field, rec, field);
    w.put(pcln + rec, go118 ? 16 * i : 0x401000 + 16 * i, go118 ? 4 : ps);
    w.put(pcln + rec + (go118 ? 4 : ps), name_at.at(spec.functions[i]), 4);
    w.put(pcln + rec + record_size - 4, 0, 4);
  }
  w.put(pcln + 2 * n * field, go118 ? 16 * n : 0x401000 + 16 * n, field);
  std::vector<uint64_t> values{n, 1};
  if (go118) values.push_back(0x401000);  // textStart
  for (const uint64_t v : {names, cu, filetab, pctab, pcln}) values.push_back(v);
  for (unsigned i = 0; i < words; ++i) w.put(8 + i * ps, values[i], ps);
  return std::move(w.bytes());
}

// .go.buildinfo: the Go 1.18+ form (version inline) or the older one (the
// address of a Go string header, both placed after the 32-byte header).
Bytes make_buildinfo(bool little, unsigned ptrsize, const std::string& version, bool inline_form,
                     uint64_t section_addr, bool pointers_zero = false) {
  Writer w(little);
  w.text(0, "\xff Go buildinf:");
  w.put(14, ptrsize, 1);
  w.put(15, (little ? 0 : 1) | (inline_form ? 2 : 0), 1);
  w.pad_to(32);
  if (inline_form) {
    w.append(version.size(), 1);  // a uvarint, < 128 here
    w.append_text(version);
    w.append(0, 1);  // modinfo: empty
    return std::move(w.bytes());
  }
  // At 32: the string header {data, len}; at 32 + 2 * ptrsize: the bytes.
  const uint64_t header_at = 32, data_at = 32 + 2 * ptrsize;
  w.put(16, pointers_zero ? 0 : section_addr + header_at, ptrsize);
  w.put(16 + ptrsize, 0, ptrsize);
  w.put(header_at, section_addr + data_at, ptrsize);
  w.put(header_at + ptrsize, version.size(), ptrsize);
  w.text(data_at, version);
  return std::move(w.bytes());
}

Bytes to_bytes(std::string_view s) {
  Bytes out(s.size());
  if (!s.empty()) std::memcpy(out.data(), s.data(), s.size());
  return out;
}

// A Go binary of the given pclntab, with the build info and sections as asked.
struct GoElfSpec {
  bool is64 = true, little = true;
  PclnSpec pcln;
  std::string version = "go1.99.1";
  bool buildinfo = true, inline_buildinfo = true, buildinfo_pointers_zero = false;
  std::string pclntab_section = ".gopclntab";  // another name hides it: the scan must find it
  bool note = false;                           // a .note.go.buildid section
  bool section_headers = true;
};

Bytes make_go_elf(GoElfSpec spec) {
  SyntheticElf elf(spec.is64, spec.little);
  spec.pcln.little = spec.little;
  spec.pcln.ptrsize = spec.is64 ? 8 : 4;
  elf.add(".text", kShtProgbits, kShfAlloc | 4, Bytes(64));
  elf.add(".rodata", kShtProgbits, kShfAlloc, to_bytes("some read-only data"));
  const size_t pcln =
      elf.add(spec.pclntab_section, kShtProgbits, kShfAlloc, make_pclntab(spec.pcln));
  elf.load(1, Segment::kRead | Segment::kExec);
  elf.load(2, Segment::kRead);
  elf.load(pcln, Segment::kRead);
  if (spec.buildinfo) {
    const size_t bi = elf.add(".go.buildinfo", kShtProgbits, kShfAlloc | kShfWrite, Bytes(256));
    elf.data(bi) =
        make_buildinfo(spec.little, spec.is64 ? 8 : 4, spec.version, spec.inline_buildinfo,
                       elf.addr_of(bi), spec.buildinfo_pointers_zero);
    elf.data(bi).resize(256);  // room after the version, as modinfo would take
    elf.load(bi, Segment::kRead | Segment::kWrite);
  }
  if (spec.note) elf.add(".note.go.buildid", kShtNote, kShfAlloc, Bytes(32));
  if (!spec.section_headers) elf.no_section_headers();
  return elf.build();
}

std::vector<std::string> sorted_unique(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

// Both readers on the bytes: a value or a one-line dslim::Error, nothing else
// (a read outside the bytes throws std::logic_error, which fails the test).
void survives(std::span<const std::byte> bytes) {
  try {
    (void)read_go(bytes);
  } catch (const dslim::Error& e) {
    const std::string message = e.what();
    CHECK(message.find('\n') == std::string::npos);
  }
  try {
    (void)sections_of(bytes);
  } catch (const dslim::Error&) {
  }
}

}  // namespace

// ---- GoBinary lookups

TEST_CASE("GoBinary lookups are by exact name and by prefix") {
  GoBinary b;
  b.functions = {"main.main", "os/user.Current", "os/user.lookupUserId", "time.LoadLocation"};
  CHECK(b.has_function("os/user.Current"));
  CHECK_FALSE(b.has_function("os/user."));
  CHECK_FALSE(b.has_function("os/user.Curren"));
  CHECK(b.has_function_prefix("os/user."));
  CHECK(b.has_function_prefix("time.Load"));
  CHECK_FALSE(b.has_function_prefix("os/users"));
  CHECK_FALSE(b.has_function_prefix("net."));
  CHECK_FALSE(b.has_function_prefix("zzz"));
  CHECK(b.has_function_prefix(""));
  CHECK_FALSE(GoBinary{}.has_function_prefix(""));
}

// ---- read_sections

TEST_CASE("read_sections agrees with readelf on real files") {
  std::vector<fs::path> files{kFixtures / "bin/hello_static", kFixtures / "bin/hello_musl",
                              kFixtures / "bin/app_runpath", kFixtures / "lib/libx.so.1.2.3",
                              kFixtures / "bin/lookup_cgo"};
  for (const char* p : {"/usr/bin/ls", "/bin/sh"})
    if (fs::exists(p)) files.push_back(fs::canonical(p));
  for (const auto& f : files) check_against_readelf(f);
}

TEST_CASE("read_sections reads 32-bit, big-endian and extended-numbering tables") {
  for (const bool is64 : {false, true}) {
    for (const bool little : {false, true}) {
      for (const bool extended : {false, true}) {
        INFO("is64 " << is64 << " little " << little << " extended " << extended);
        SyntheticElf elf(is64, little);
        elf.add(".text", kShtProgbits, kShfAlloc | 4, Bytes(100));
        elf.add(".data", kShtProgbits, kShfAlloc | kShfWrite, Bytes(10));
        elf.add(std::string(300, 'n'), kShtProgbits, 0, Bytes(1));  // a name past the first read
        elf.add(".note.x", kShtNote, kShfAlloc, Bytes(24));
        elf.load(1, Segment::kRead | Segment::kExec);
        elf.load(2, Segment::kRead | Segment::kWrite);
        if (extended) elf.extended_numbering();
        const Bytes bytes = elf.build();
        TempDir dir;
        const fs::path path = dir.path() / "synthetic";
        write_bytes(path, bytes);
        check_against_readelf(path);
        const auto sections = sections_of(bytes);
        REQUIRE(sections.size() == 6);
        CHECK(sections[1].name == ".text");
        CHECK(sections[1].flags == (kShfAlloc | 4));
        CHECK(sections[1].type == kShtProgbits);
        CHECK(sections[3].name == std::string(300, 'n'));
        CHECK(sections[5].name == ".shstrtab");
        const auto segments = read_segments(bytes.size(), reader_over(bytes), "test");
        REQUIRE(segments.size() == 2);
        CHECK(segments[0].type == Segment::kLoad);
        CHECK(segments[0].flags == (Segment::kRead | Segment::kExec));
        CHECK(segments[1].offset == sections[2].offset);
        CHECK(segments[1].vaddr == sections[2].addr);
        CHECK(segments[1].filesz == 10);
      }
    }
  }
}

TEST_CASE("read_sections: no table, and bad tables as one-line errors") {
  SyntheticElf elf(true, true);
  elf.add(".text", kShtProgbits, kShfAlloc, Bytes(16));
  const Bytes good = elf.build();
  const uint64_t shoff = [&] {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(good[40 + i]) << (8 * i);
    return v;
  }();

  SECTION("no section headers") {
    SyntheticElf none(true, true);
    none.add(".text", kShtProgbits, kShfAlloc, Bytes(16));
    none.no_section_headers();
    CHECK(sections_of(none.build()).empty());
  }
  auto rejected = [](const Bytes& bytes, const std::string& what) {
    CHECK_THROWS_WITH(sections_of(bytes, "/x/app"), Catch::Contains("/x/app: ") &&
                                                        Catch::Contains(what) &&
                                                        !Catch::Contains("\n"));
  };
  SECTION("not ELF") {
    rejected(to_bytes("#!/bin/sh\necho hello, world\n"), "not an ELF file");
  }
  SECTION("table past the end") {
    rejected(Bytes(good.begin(), good.end() - 1), "section headers end");
  }
  SECTION("entry size") {
    Bytes b = good;
    b[58] = std::byte{40};
    rejected(b, "entry size");
  }
  SECTION("name table index out of range") {
    Bytes b = good;
    b[62] = std::byte{9};
    rejected(b, "out of range");
  }
  SECTION("name offset outside the name table") {
    Bytes b = good;
    b[shoff + 64] = std::byte{0xff};
    b[shoff + 65] = std::byte{0xff};
    rejected(b, "name offset");
  }
  SECTION("section past the end of the file") {
    Bytes b = good;
    b[shoff + 64 + 32 + 3] = std::byte{0x10};  // .text's sh_size
    rejected(b, "reaches past the end");
  }
  SECTION("extended numbering beyond the cap") {
    Bytes b = good;
    b[60] = b[61] = std::byte{0};  // e_shnum 0: the count is section 0's sh_size
    b[shoff + 32] = std::byte{0};
    b[shoff + 33] = std::byte{0};
    b[shoff + 34] = std::byte{1};  // 65536
    rejected(b, "too many sections");
  }
  SECTION("extended numbering count past the end") {
    Bytes b = good;
    b[60] = b[61] = std::byte{0};
    b[shoff + 32] = std::byte{0xff};
    b[shoff + 33] = std::byte{0x0f};
    rejected(b, "section headers end");
  }
}

// ---- Go binaries built here

TEST_CASE("Go: static stripped binary: os/user and time, no net") {
  if (!need("go")) return;
  auto& go = GoBuilds::instance();
  const fs::path stripped =
      go.build("user_static_s", kUserTimeProgram, "CGO_ENABLED=0", "-ldflags=-s");
  const fs::path full = go.build("user_static", kUserTimeProgram, "CGO_ENABLED=0", "");
  const Bytes bytes = slurp(stripped);
  REQUIRE(find_section(sections_of(bytes), ".symtab") == nullptr);  // really stripped
  Reads reads;
  const auto go_bin = read_go_binary(bytes.size(), reader_over(bytes, &reads), stripped.string());
  REQUIRE(go_bin);
  CHECK(go_bin->version == go_version());
  CHECK(go_bin->has_function("main.main"));
  CHECK(go_bin->has_function_prefix("os/user."));
  CHECK(go_bin->has_function("os/user.Current"));
  CHECK(go_bin->has_function("time.LoadLocation"));
  CHECK_FALSE(go_bin->has_function_prefix("net."));
  CHECK_FALSE(go_bin->has_function_prefix("crypto/"));
  CHECK(std::is_sorted(go_bin->functions.begin(), go_bin->functions.end()));
  CHECK(std::adjacent_find(go_bin->functions.begin(), go_bin->functions.end()) ==
        go_bin->functions.end());
  // Few reads, and a small part of the file.
  CHECK(reads.count <= 16);
  CHECK(reads.bytes < bytes.size() / 4);
  // Stripping drops the symbol table, not functions.
  const auto unstripped = read_go(slurp(full));
  REQUIRE(unstripped);
  CHECK(unstripped->functions == go_bin->functions);
}

TEST_CASE("Go: unstripped binary: the functions go tool nm lists") {
  if (!need("go")) return;
  auto& go = GoBuilds::instance();
  const fs::path path = go.build("user_static", kUserTimeProgram, "CGO_ENABLED=0", "");
  const auto go_bin = read_go(slurp(path));
  REQUIRE(go_bin);
  const auto nm = nm_functions(path);
  REQUIRE(nm.size() > 1000);
  CHECK(missing_from(nm, abbreviated(go_bin->functions)) == std::vector<std::string>{});
  CHECK(missing_from(abbreviated(go_bin->functions), nm) == std::vector<std::string>{});
}

TEST_CASE("Go: PIE, internal and external linking (the scan of .data.rel.ro)") {
  if (!need("go") || !need("gcc")) return;
  auto& go = GoBuilds::instance();
  const fs::path pie = go.build("user_pie", kUserTimeProgram, "CGO_ENABLED=0", "-buildmode=pie");
  const fs::path ext = go.build("user_ext_pie", kUserTimeProgram, "CGO_ENABLED=1",
                                "-buildmode=pie -ldflags=-linkmode=external");
  for (const auto& path : {pie, ext}) {
    INFO(path);
    const Bytes bytes = slurp(path);
    const auto go_bin = read_go(bytes, path.string());
    REQUIRE(go_bin);
    CHECK(go_bin->version == go_version());
    CHECK(go_bin->has_function("main.main"));
    CHECK(go_bin->has_function("os/user.Current"));
    CHECK(go_bin->has_function("time.LoadLocation"));
    CHECK_FALSE(go_bin->has_function_prefix("net."));
    // Every name is a text symbol (the C functions of cgo are not in the pclntab).
    const auto nm = nm_functions(path);
    CHECK(missing_from(abbreviated(go_bin->functions), nm) == std::vector<std::string>{});
  }
  // The external linker merged the table into .data.rel.ro: only the scan finds it.
  const auto sections = sections_of(slurp(ext));
  CHECK(find_section(sections, ".gopclntab") == nullptr);
  CHECK(find_section(sections, ".data.rel.ro.gopclntab") == nullptr);
  CHECK(find_section(sections_of(slurp(pie)), ".data.rel.ro.gopclntab") != nullptr);
}

TEST_CASE("Go: cgo binaries") {
  if (!need("go") || !need("gcc")) return;
  auto& go = GoBuilds::instance();
  const fs::path cgo = go.build("user_cgo", kUserTimeProgram, "CGO_ENABLED=1", "");
  const auto user = read_go(slurp(cgo), cgo.string());
  REQUIRE(user);
  CHECK(user->version == go_version());
  CHECK(user->has_function("os/user.Current"));
  CHECK(user->has_function_prefix("os/user._Cfunc_"));  // the libc lookups
  CHECK_FALSE(user->has_function_prefix("net."));
  CHECK(missing_from(abbreviated(user->functions), nm_functions(cgo)) ==
        std::vector<std::string>{});

  // The fixtures' resolver program: glibc's getaddrinfo through cgo.
  const fs::path lookup = kFixtures / "bin/lookup_cgo";
  const auto net = read_go(slurp(lookup), lookup.string());
  REQUIRE(net);
  CHECK(net->version == go_version());
  CHECK(net->has_function_prefix("net."));
  CHECK(net->has_function("net._C2func_getaddrinfo"));
}

TEST_CASE("Go: 32-bit and big-endian builds (386, mips, ppc64)") {
  if (!need("go")) return;
  auto& go = GoBuilds::instance();
  go.build_parallel(kTinyProgram, {{"tiny_386", "CGO_ENABLED=0 GOARCH=386"},
                                   {"tiny_mips", "CGO_ENABLED=0 GOARCH=mips"},
                                   {"tiny_ppc64", "CGO_ENABLED=0 GOARCH=ppc64"}});
  for (const char* key : {"tiny_386", "tiny_mips", "tiny_ppc64"}) {
    const fs::path path = go.path(key);
    INFO(path);
    check_against_readelf(path);
    const auto go_bin = read_go(slurp(path), path.string());
    REQUIRE(go_bin);
    CHECK(go_bin->version == go_version());
    CHECK(go_bin->has_function("main.main"));
    CHECK(go_bin->has_function("os.(*File).WriteString"));
    CHECK_FALSE(go_bin->has_function_prefix("os/user."));
    CHECK(abbreviated(go_bin->functions) == nm_functions(path));
  }
}

TEST_CASE("Go: not Go binaries") {
  for (const char* f : {"bin/hello_static", "bin/app_runpath", "lib/libx.so.1.2.3",
                        "bin/hello_musl", "bin/hello.sh"}) {
    INFO(f);
    CHECK_FALSE(read_go(slurp(kFixtures / f)));
  }
  if (fs::exists("/usr/bin/ls")) CHECK_FALSE(read_go(slurp("/usr/bin/ls")));
  CHECK_FALSE(read_go(Bytes{}));
  CHECK_FALSE(read_go(to_bytes("\177EL")));
  CHECK_FALSE(read_go(to_bytes("MZ this is not ELF at all")));
  // A C program with no section headers is scanned, and found not Go.
  SyntheticElf elf(true, true);
  elf.add(".rodata", kShtProgbits, kShfAlloc,
          to_bytes(std::string("\xfb\xff\xff\xff\0\0\1\x08", 8) + " not a table"));
  elf.load(1, Segment::kRead);
  elf.no_section_headers();
  CHECK_FALSE(read_go(elf.build()));
}

// ---- the older formats: Go's own Go 1.15 table, synthetic 1.2-1.20 tables

TEST_CASE("Go 1.15 pclntab (debug/gosym's test table) matches debug/gosym") {
  if (!need("go")) return;
  auto& go = GoBuilds::instance();
  std::string goroot = go.go("env GOROOT");
  while (!goroot.empty() && goroot.back() == '\n') goroot.pop_back();
  const fs::path gz = fs::path(goroot) / "src/debug/gosym/testdata/pcln115.gz";
  if (!fs::exists(gz)) {
    if (std::getenv("CI")) FAIL("missing " << gz << " (golang-src)");
    WARN("skipped: no " << gz);
    return;
  }
  TempDir dir;
  const fs::path table_path = dir.path() / "pcln115";
  run("gzip -dc " + quote(gz) + " > " + quote(table_path));
  const Bytes table = slurp(table_path);
  // The oracle: debug/gosym's function list of the same table.
  const fs::path oracle = dir.path() / "oracle.go";
  std::ofstream(oracle) << R"(package main

import (
	"debug/gosym"
	"fmt"
	"os"
)

func main() {
	dat, err := os.ReadFile(os.Args[1])
	if err != nil {
		panic(err)
	}
	tab, err := gosym.NewTable(nil, gosym.NewLineTable(dat, 0))
	if err != nil {
		panic(err)
	}
	for _, f := range tab.Funcs {
		fmt.Println(f.Name)
	}
}
)";
  std::istringstream lines(go.go("run " + quote(oracle) + " " + quote(table_path)));
  std::vector<std::string> expected;
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) expected.push_back(line);
  expected = sorted_unique(expected);
  REQUIRE(expected.size() > 500);

  for (const bool scan : {false, true}) {
    INFO("scan " << scan);
    SyntheticElf elf(true, true);
    elf.add(".text", kShtProgbits, kShfAlloc | 4, Bytes(64));
    const size_t t = elf.add(scan ? ".rodata" : ".gopclntab", kShtProgbits, kShfAlloc, table);
    if (scan) elf.add(".note.go.buildid", kShtNote, kShfAlloc, Bytes(16));
    elf.load(1, Segment::kRead | Segment::kExec);
    elf.load(t, Segment::kRead);
    const auto go_bin = read_go(elf.build());
    REQUIRE(go_bin);
    CHECK(go_bin->functions == expected);
    CHECK(go_bin->version.empty());  // no build info before Go 1.13
  }
}

TEST_CASE("Go: every pclntab format, class, byte order and build info form") {
  const std::vector<std::string> functions{
      "main.main",        "runtime.main",      "os/user.lookupUserId",
      "main.(*T).String", "main.generic[...]",
      "runtime.main",  // a second function of one name
      "aeshashbody"};
  const auto expected = sorted_unique(functions);
  for (const Pcln format : {Pcln::Go12, Pcln::Go116, Pcln::Go118, Pcln::Go120}) {
    for (const bool is64 : {false, true}) {
      for (const bool little : {false, true}) {
        INFO("format " << static_cast<int>(format) << " is64 " << is64 << " little " << little);
        GoElfSpec spec;
        spec.is64 = is64;
        spec.little = little;
        spec.pcln.format = format;
        spec.pcln.functions = functions;
        spec.pcln.inlined = {"strings.inlinedOnly", "net.inlinedOnly"};
        spec.inline_buildinfo = format != Pcln::Go12 && format != Pcln::Go116;
        spec.version = spec.inline_buildinfo ? "go1.20.3" : "go1.16.15";
        const auto go_bin = read_go(make_go_elf(spec));
        REQUIRE(go_bin);
        CHECK(go_bin->functions == expected);
        CHECK_FALSE(go_bin->has_function_prefix("net."));  // only inlined: not linked
        CHECK(go_bin->version == spec.version);

        // Found by the scan when no section names the table.
        spec.pclntab_section = ".rodata.other";
        const auto scanned = read_go(make_go_elf(spec));
        REQUIRE(scanned);
        CHECK(scanned->functions == expected);
        // And without any section headers (build info found in the data segment).
        spec.section_headers = false;
        const auto bare = read_go(make_go_elf(spec));
        REQUIRE(bare);
        CHECK(bare->functions == expected);
        CHECK(bare->version == spec.version);
      }
    }
  }
}

TEST_CASE("Go: build info edge cases") {
  GoElfSpec spec;
  spec.pcln.functions = {"main.main"};
  SECTION("none: version unknown") {
    spec.buildinfo = false;
    const auto b = read_go(make_go_elf(spec));
    REQUIRE(b);
    CHECK(b->version.empty());
  }
  SECTION("pointer form whose pointers a PIE relocates: version unknown") {
    spec.inline_buildinfo = false;
    spec.buildinfo_pointers_zero = true;
    const auto b = read_go(make_go_elf(spec));
    REQUIRE(b);
    CHECK(b->version.empty());
  }
  SECTION("a long version, past the first read") {
    spec.version = "devel go1.22-" + std::string(100, 'x');
    const auto b = read_go(make_go_elf(spec));
    REQUIRE(b);
    CHECK(b->version == spec.version);
  }
  SECTION("inline version running past its section") {
    Bytes bytes = make_go_elf(spec);
    const auto sections = sections_of(bytes);
    const Section* bi = find_section(sections, ".go.buildinfo");
    REQUIRE(bi);
    bytes[bi->offset + 32] = std::byte{0x7f};  // length 127 in a 256-byte section: fits
    CHECK_NOTHROW(read_go(bytes));
    // A two-byte uvarint: 250 bytes from offset 34 of 256.
    bytes[bi->offset + 32] = std::byte{0xfa};
    bytes[bi->offset + 33] = std::byte{0x01};
    CHECK_THROWS_WITH(read_go(bytes, "/app"), Catch::Contains("/app: malformed Go build info") &&
                                                  Catch::Contains("runs past its section"));
    bytes[bi->offset + 32] = std::byte{0xff};  // 16383 bytes: no version is that long
    bytes[bi->offset + 33] = std::byte{0x7f};
    CHECK_THROWS_WITH(read_go(bytes, "/app"),
                      Catch::Contains("/app: malformed Go build info") && Catch::Contains("16383"));
    // A uvarint without an end.
    std::fill(bytes.begin() + bi->offset + 32, bytes.begin() + bi->offset + 256, std::byte{0xff});
    CHECK_THROWS_WITH(read_go(bytes, "/app"), Catch::Contains("version length has no end"));
  }
}

TEST_CASE("Go: a Go section without a pclntab, and malformed tables, are errors") {
  GoElfSpec spec;
  spec.pcln.functions = {"main.main", "runtime.main"};
  SECTION("Go sections but no table anywhere") {
    SyntheticElf elf(true, true);
    elf.add(".text", kShtProgbits, kShfAlloc | 4, Bytes(64));
    const size_t bi = elf.add(".go.buildinfo", kShtProgbits, kShfAlloc | kShfWrite, Bytes(64));
    elf.data(bi) = make_buildinfo(true, 8, "go1.21.0", true, elf.addr_of(bi));
    elf.load(1, Segment::kRead | Segment::kExec);
    CHECK_THROWS_WITH(read_go(elf.build(), "/app"),
                      Catch::Contains("/app: ") && Catch::Contains("no pclntab"));
  }
  const Bytes good = make_go_elf(spec);
  const Section table = *find_section(sections_of(good), ".gopclntab");
  auto patch = [&](uint64_t at, std::initializer_list<uint8_t> values) {
    Bytes b = good;
    for (const uint8_t v : values) b[table.offset + at++] = std::byte{v};
    return b;
  };
  auto malformed = [](const Bytes& b, const std::string& what) {
    CHECK_THROWS_WITH(read_go(b, "/app"), Catch::Contains("/app: malformed Go pclntab") &&
                                              Catch::Contains(what) && !Catch::Contains("\n"));
  };
  SECTION("unknown magic") {
    malformed(patch(0, {0xf2}), "unknown magic");
  }
  SECTION("pointer size") {
    malformed(patch(7, {4}), "pointer size");
  }
  SECTION("function count") {
    malformed(patch(8 + 7, {0x10}), "do not fit");
  }
  SECTION("no functions") {
    malformed(patch(8, {0, 0}), "no functions");
  }
  SECTION("table offsets") {
    malformed(patch(8 + 3 * 8, {0xff, 0xff}), "out of order");
  }
  // The records (40 bytes each, the nameoff at 4) start after the function
  // table, 2 * 2 + 1 fields of 4 bytes rounded up to 8, at pclnOffset.
  uint64_t pcln = 0;
  for (int i = 0; i < 8; ++i)
    pcln |= static_cast<uint64_t>(good[table.offset + 8 + 7 * 8 + i]) << (8 * i);
  const uint64_t first_nameoff = pcln + 24 + 4, second_nameoff = first_nameoff + 40;
  SECTION("name offset") {
    malformed(patch(first_nameoff, {0xff, 0xff, 0xff}), "name offset");
  }
  SECTION("overlapping names") {
    // "ain.main" inside "main.main": the copies of such names could grow
    // with the square of the table's size.
    malformed(patch(second_nameoff, {1, 0, 0, 0}), "overlap");
  }
  SECTION("record outside the table") {
    malformed(patch(pcln + 4, {0xff, 0xff, 0xff}), "outside the table");
  }
}

// ---- hostile input

TEST_CASE("Go: truncated copies fail cleanly") {
  if (!need("go")) return;
  const Bytes bytes = slurp(GoBuilds::instance().build("user_static_s", kUserTimeProgram,
                                                       "CGO_ENABLED=0", "-ldflags=-s"));
  std::vector<uint64_t> lengths;
  for (uint64_t n = 0; n < 4096; n += 61) lengths.push_back(n);
  for (uint64_t n = 4096; n < bytes.size(); n += bytes.size() / 257) lengths.push_back(n);
  for (uint64_t n = bytes.size() > 8192 ? bytes.size() - 8192 : 0; n < bytes.size(); n += 97)
    lengths.push_back(n);
  for (const uint64_t n : lengths) {
    INFO("length " << n);
    survives(std::span(bytes).first(n));
  }
  // The pclntab section shortened: the table parser meets its end early.
  const auto sections = sections_of(bytes);
  const auto it = std::find_if(sections.begin(), sections.end(),
                               [](const Section& s) { return s.name == ".gopclntab"; });
  REQUIRE(it != sections.end());
  const uint64_t index = static_cast<uint64_t>(it - sections.begin());
  uint64_t shoff = 0;
  for (int i = 0; i < 8; ++i) shoff |= static_cast<uint64_t>(bytes[40 + i]) << (8 * i);
  Bytes copy = bytes;
  for (uint64_t size = 0; size < it->size; size += it->size / 211 + 1) {
    INFO("pclntab size " << size);
    for (int i = 0; i < 8; ++i)
      copy[shoff + index * 64 + 32 + i] = static_cast<std::byte>((size >> (8 * i)) & 0xff);
    survives(copy);
  }
}

TEST_CASE("Go: random byte flips in the headers and tables fail cleanly") {
  if (!need("go")) return;
  const Bytes original = slurp(GoBuilds::instance().build("user_static_s", kUserTimeProgram,
                                                          "CGO_ENABLED=0", "-ldflags=-s"));
  const auto sections = sections_of(original);
  const Section* pcln = find_section(sections, ".gopclntab");
  const Section* bi = find_section(sections, ".go.buildinfo");
  REQUIRE(pcln);
  REQUIRE(bi);
  uint64_t shoff = 0;
  for (int i = 0; i < 8; ++i) shoff |= static_cast<uint64_t>(original[40 + i]) << (8 * i);
  struct Area {
    const char* what;
    uint64_t offset, size;
    int rounds, flips;
  };
  const std::vector<Area> areas{{"ELF and program headers", 0, 64 + 56 * 8, 400, 2},
                                {"section header table", shoff, sections.size() * 64, 800, 2},
                                {"pclntab header", pcln->offset, 72, 1000, 2},
                                {"pclntab", pcln->offset, pcln->size, 200, 16},
                                {"build info", bi->offset, bi->size, 200, 2}};
  std::mt19937_64 random(20240601);
  Bytes bytes = original;
  for (const auto& area : areas) {
    INFO(area.what);
    for (int round = 0; round < area.rounds; ++round) {
      std::vector<uint64_t> changed;
      for (int f = 0; f < area.flips; ++f) {
        const uint64_t at = area.offset + random() % area.size;
        changed.push_back(at);
        // Half the time a bit flip, half an extreme value.
        const auto r = random();
        bytes[at] = r % 2 ? bytes[at] ^ static_cast<std::byte>(1u << (r % 8))
                          : static_cast<std::byte>(r % 3 == 0   ? 0xff
                                                   : r % 3 == 1 ? 0
                                                                : r >> 8);
      }
      survives(bytes);
      for (const uint64_t at : changed) bytes[at] = original[at];
    }
  }
}
