// LdCache against caches written by the real ldconfig (all three layouts) and
// the host's own cache, each compared with what `ldconfig -p` prints; then
// hand-built caches for the corners ldconfig does not write on this host, and
// hostile bytes.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "dslim/error.hpp"
#include "dslim/ld_cache.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using dslim::resolve::CacheEntry;
using dslim::resolve::ld_cache_flags;
using dslim::resolve::LdCache;

namespace {

std::span<const std::byte> as_bytes(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs a shell command; its stdout, or nullopt if it failed.
std::optional<std::string> run(const std::string& cmd) {
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return std::nullopt;
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = pclose(p);
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
  return out;
}

// Under CI a missing tool throws, failing the test (support/temp_dir.hpp).
bool have_tools() {
  return dslim::test::have_tool("ldconfig") && dslim::test::have_tool("cc");
}

// One line of `ldconfig -p`, after elf/cache.c print_entry.
std::string describe(const CacheEntry& e, bool hwcaps_name_any = false) {
  static const char* const types[] = {"libc4", "ELF", "libc5", "libc6"};
  std::string s = "\t" + std::string(e.key) + " (";
  int type = e.flags & 0xff;
  s += type <= 3 ? types[type] : "unknown";
  switch (e.flags & 0xff00) {
    case 0:
      break;
    case 0x0300:
      s += ",x86-64";
      break;
    case 0x0800:
      s += ",x32";
      break;
    case 0x0a00:
      s += ",AArch64";
      break;
    default:
      s += "," + std::to_string(e.flags & 0xff00);
      break;
  }
  if (!e.hwcaps_subdir.empty()) {
    s += ", hwcap: \"" + (hwcaps_name_any ? std::string("*") : std::string(e.hwcaps_subdir)) + "\"";
  } else if (e.hwcap != 0) {
    char buf[40];
    std::snprintf(buf, sizeof buf, ", hwcap: %#.16" PRIx64, e.hwcap);
    s += buf;
  }
  if (e.osversion != 0) {
    static const char* const os[] = {"Linux",   "Hurd",     "Solaris",   "FreeBSD",
                                     "kNetBSD", "Syllable", "Unknown OS"};
    unsigned tag = e.osversion >> 24;
    s += ", OS ABI: " + std::string(os[tag > 6 ? 6 : tag]) + " " +
         std::to_string((e.osversion >> 16) & 0xff) + "." +
         std::to_string((e.osversion >> 8) & 0xff) + "." + std::to_string(e.osversion & 0xff);
  }
  return s + ") => " + std::string(e.value);
}

// The entry lines of `ldconfig -p` output (they start with a tab).
std::vector<std::string> entry_lines(const std::string& out, bool hwcaps_name_any = false) {
  std::vector<std::string> lines;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] != '\t') continue;
    if (hwcaps_name_any) {
      // glibc 2.36 resolves hwcaps names of a compat cache against the file
      // start rather than the new header, and prints garbage; see below.
      auto at = line.find(", hwcap: \"");
      if (at != std::string::npos) {
        auto end = line.find("\")", at + 10);
        if (end != std::string::npos) line.replace(at + 10, end - at - 10, "*");
      }
    }
    lines.push_back(line);
  }
  return lines;
}

std::vector<std::string> describe_all(const LdCache& c, bool hwcaps_name_any = false) {
  std::vector<std::string> out;
  for (const auto& e : c.entries()) out.push_back(describe(e, hwcaps_name_any));
  return out;
}

CacheEntry first_entry(const LdCache& c, const std::string& soname) {
  for (const auto& e : c.entries())
    if (e.key == soname) return e;
  return {};
}

// A root with libraries for ldconfig -r: a glibc-hwcaps variant of libfoo,
// several sonames in two directories, one listed through an include.
struct LdconfigRoot {
  dslim::test::TempDir tmp;
  fs::path root;
  bool ok = false;

  LdconfigRoot() {
    root = tmp.path() / "root";
    fs::create_directories(root / "etc/ld.so.conf.d");
    fs::create_directories(root / "opt/lib/glibc-hwcaps/x86-64-v2");
    fs::create_directories(root / "opt/lib2");
    std::ofstream(tmp.path() / "f.c") << "int f(void) { return 1; }\n";
    auto build = [&](const std::string& soname, const fs::path& out) {
      return run("cc -shared -fPIC -Wl,-soname," + soname + " -o '" + out.string() + "' '" +
                 (tmp.path() / "f.c").string() + "' 2>/dev/null")
          .has_value();
    };
    ok = build("libfoo.so.1", root / "opt/lib/libfoo.so.1.0") &&
         build("libfoo.so.1", root / "opt/lib/glibc-hwcaps/x86-64-v2/libfoo.so.1.0") &&
         build("libbar.so.2", root / "opt/lib2/libbar.so.2.5") &&
         build("libbaz.so.10", root / "opt/lib2/libbaz.so.10") &&
         build("libbaz.so.9", root / "opt/lib2/libbaz.so.9") &&
         build("libqux.so.0", root / "opt/lib/libqux.so.0.0.1");
    std::ofstream(root / "etc/ld.so.conf")
        << "# test\n/opt/lib\ninclude /etc/ld.so.conf.d/*.conf\n";
    std::ofstream(root / "etc/ld.so.conf.d/x.conf") << "/opt/lib2\n";
  }

  // Writes the cache in `format` (new, old, compat); its path, or nullopt.
  std::optional<fs::path> make(const std::string& format) {
    fs::path cache = root / "etc/ld.so.cache";
    fs::remove(cache);
    // -X: no symlinks in the tree; -N would skip the cache itself.
    if (!run("ldconfig -X -r '" + root.string() + "' -c " + format + " 2>/dev/null")) return {};
    if (!fs::exists(cache)) return {};
    return cache;
  }
};

// Built once: each SECTION re-enters its TEST_CASE, and cc is slow.
LdconfigRoot& shared_root() {
  static LdconfigRoot root;
  return root;
}

uint32_t le32(const std::string& s, size_t off) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = v << 8 | static_cast<uint8_t>(s[off + i]);
  return v;
}

// ---- a small cache writer for layouts this host's ldconfig does not produce

struct Syn {
  int32_t flags;
  std::string key, value;
  uint64_t hwcap = 0;
  uint32_t osversion = 0;
};

void put(std::string& s, size_t off, uint64_t v, int len, bool big) {
  for (int i = 0; i < len; ++i) {
    int shift = big ? 8 * (len - 1 - i) : 8 * i;
    s[off + i] = static_cast<char>((v >> shift) & 0xff);
  }
}

// The new table as it would sit at file offset `at`.
std::string new_table(const std::vector<Syn>& es, const std::vector<std::string>& hwcaps, bool big,
                      uint64_t at = 0, uint8_t endian_flags = 0xff) {
  std::string out(48 + 24 * es.size(), '\0');
  std::memcpy(out.data(), "glibc-ld.so.cache1.1", 20);
  std::string strings;
  auto add = [&](std::string_view str) {
    uint32_t off = static_cast<uint32_t>(out.size() + strings.size());
    strings += str;
    strings.push_back('\0');
    return off;
  };
  put(out, 20, es.size(), 4, big);
  out[28] = static_cast<char>(endian_flags != 0xff ? endian_flags : (big ? 3 : 2));
  for (size_t i = 0; i < es.size(); ++i) {
    size_t o = 48 + 24 * i;
    put(out, o, static_cast<uint32_t>(es[i].flags), 4, big);
    put(out, o + 4, add(es[i].key), 4, big);
    put(out, o + 8, add(es[i].value), 4, big);
    put(out, o + 12, es[i].osversion, 4, big);
    put(out, o + 16, es[i].hwcap, 8, big);
  }
  std::vector<uint32_t> names;
  for (const auto& h : hwcaps) names.push_back(add(h));
  put(out, 24, strings.size(), 4, big);
  out += strings;
  if (!hwcaps.empty()) {
    while ((at + out.size()) % 4 != 0) out.push_back('\0');
    uint64_t ext = at + out.size();
    put(out, 32, ext, 4, big);
    std::string dir(8 + 16, '\0');
    put(dir, 0, 0xeaa42174, 4, big);
    put(dir, 4, 1, 4, big);
    put(dir, 8, 1, 4, big);                  // tag: glibc-hwcaps
    put(dir, 16, ext + dir.size(), 4, big);  // offset, from the file start
    put(dir, 20, 4 * names.size(), 4, big);  // size
    out += dir;
    for (uint32_t n : names) {
      std::string w(4, '\0');
      put(w, 0, n, 4, big);
      out += w;
    }
  }
  return out;
}

std::string old_table(const std::vector<Syn>& es, bool big, const std::string& tail = "") {
  std::string out(16 + 12 * es.size(), '\0');
  std::memcpy(out.data(), "ld.so-1.7.0", 11);
  put(out, 12, es.size(), 4, big);
  std::string strings = tail;  // a compat file hides its new table here
  auto add = [&](std::string_view str) {
    uint32_t off = static_cast<uint32_t>(strings.size());
    strings += str;
    strings.push_back('\0');
    return off;
  };
  for (size_t i = 0; i < es.size(); ++i) {
    put(out, 16 + 12 * i, static_cast<uint32_t>(es[i].flags), 4, big);
    put(out, 16 + 12 * i + 4, add(es[i].key), 4, big);
    put(out, 16 + 12 * i + 8, add(es[i].value), 4, big);
  }
  return out + strings;
}

LdCache parse(const std::string& bytes) {
  return LdCache::parse(as_bytes(bytes), "test.cache");
}

// Parsing must either succeed or throw dslim::Error; anything else fails.
void parse_or_error(const std::string& bytes) {
  try {
    LdCache c = parse(bytes);
    for (const auto& e : c.entries()) (void)c.lookup(e.key, e.flags);
  } catch (const dslim::Error& e) {
    CHECK(std::string(e.what()).rfind("test.cache: ", 0) == 0);
  }
}

}  // namespace

TEST_CASE("ld.so.cache written by the real ldconfig, in every format") {
  if (!have_tools()) return;
  LdconfigRoot& r = shared_root();
  REQUIRE(r.ok);
  const std::string foo = "/opt/lib/libfoo.so.1";
  const std::string foo_v2 = "/opt/lib/glibc-hwcaps/x86-64-v2/libfoo.so.1.0";

  SECTION("new") {
    auto path = r.make("new");
    REQUIRE(path);
    std::string bytes = read_file(*path);
    REQUIRE(bytes.rfind("glibc-ld.so.cache1.1", 0) == 0);
    LdCache c = parse(bytes);
    auto printed = run("ldconfig -p -C '" + path->string() + "'");
    REQUIRE(printed);
    CHECK(describe_all(c) == entry_lines(*printed));
    CHECK(c.entries().size() == 6);
    CHECK(c.lookup("libfoo.so.1", 0x0303) == foo);
    CHECK(c.hwcaps_variants("libfoo.so.1", 0x0303) == std::vector<std::string>{foo_v2});
    CHECK(first_entry(c, "libfoo.so.1").hwcaps_subdir == "x86-64-v2");  // extensions sort first
    CHECK(c.lookup("libbar.so.2", 0x0303) == "/opt/lib2/libbar.so.2");
    CHECK(c.lookup("libbaz.so.9", 0x0303) == "/opt/lib2/libbaz.so.9");
    CHECK(c.lookup("libbaz.so.10", 0x0303) == "/opt/lib2/libbaz.so.10");
    CHECK_FALSE(c.lookup("libfoo.so.1", 0x0a03));
    CHECK_FALSE(c.lookup("libfoo.so", 0x0303));
    CHECK(c.hwcaps_variants("libbar.so.2", 0x0303).empty());
  }

  SECTION("old") {
    auto path = r.make("old");
    REQUIRE(path);
    std::string bytes = read_file(*path);
    REQUIRE(bytes.rfind("ld.so-1.7.0", 0) == 0);
    REQUIRE(bytes.find("glibc-ld.so.cache") == std::string::npos);
    LdCache c = parse(bytes);
    auto printed = run("ldconfig -p -C '" + path->string() + "'");
    REQUIRE(printed);
    CHECK(describe_all(c) == entry_lines(*printed));
    // The old layout has no hwcap field, yet ldconfig 2.36 writes glibc-hwcaps
    // entries into it as plain ones, first: a loader reading it takes them.
    CHECK(c.lookup("libfoo.so.1", 0x0303) == foo_v2);
    CHECK(c.hwcaps_variants("libfoo.so.1", 0x0303).empty());
    CHECK(c.lookup("libqux.so.0", 0x0303) == "/opt/lib/libqux.so.0");
  }

  SECTION("compat") {
    auto path = r.make("compat");
    REQUIRE(path);
    std::string bytes = read_file(*path);
    REQUIRE(bytes.rfind("ld.so-1.7.0", 0) == 0);
    // The new header is at ALIGN(16 + 12 * nlibs, 8); ldconfig pads the old
    // count to even so that the alignment needs no padding on any ABI.
    uint32_t old_n = le32(bytes, 12);
    CHECK(old_n % 2 == 0);
    size_t at = (16 + 12 * size_t{old_n} + 7) & ~size_t{7};
    CHECK(bytes.compare(at, 20, "glibc-ld.so.cache1.1") == 0);
    LdCache c = parse(bytes);
    auto printed = run("ldconfig -p -C '" + path->string() + "'");
    REQUIRE(printed);
    CHECK(describe_all(c, true) == entry_lines(*printed, true));
    CHECK(c.entries().size() == 6);  // the new table, not the old copy
    CHECK(first_entry(c, "libfoo.so.1").hwcaps_subdir == "x86-64-v2");
    CHECK(c.lookup("libfoo.so.1", 0x0303) == foo);
    CHECK(c.hwcaps_variants("libfoo.so.1", 0x0303) == std::vector<std::string>{foo_v2});
  }
}

TEST_CASE("the host's /etc/ld.so.cache matches ldconfig -p") {
  if (!have_tools()) return;
  REQUIRE(fs::exists("/etc/ld.so.cache"));
  std::string bytes = read_file("/etc/ld.so.cache");
  auto printed = run("ldconfig -p -C /etc/ld.so.cache");
  REQUIRE(printed);
  LdCache c = LdCache::parse(as_bytes(bytes), "/etc/ld.so.cache");
  CHECK(describe_all(c) == entry_lines(*printed));
  CHECK(c.entries().size() > 10);
  // libc is in every glibc host's cache, for the host's own flags.
  auto flags = ld_cache_flags(sizeof(void*) == 8, 62);
  if (sizeof(void*) == 8 && run("uname -m | grep -qx x86_64")) {
    auto libc = c.lookup("libc.so.6", *flags);
    REQUIRE(libc);
    CHECK(fs::path(*libc).filename() == "libc.so.6");
  }
}

TEST_CASE("hand-built caches: byte order, compat alignment, flags, hwcaps") {
  std::vector<Syn> es = {
      {0x0303, "liba.so.1", "/hw/glibc-hwcaps/x86-64-v3/liba.so.1", (1ULL << 62) | 1},
      // ISA level bits (32..41) next to bit 62, as glibc 2.33-2.36 may write.
      {0x0303, "liba.so.1", "/hw/glibc-hwcaps/x86-64-v2/liba.so.1", (1ULL << 62) | (2ULL << 32)},
      {0x0303, "liba.so.1", "/legacy/tls/liba.so.1", 1ULL << 63},  // legacy hwcap: skipped
      {0x0003, "liba.so.1", "/lib32/liba.so.1"},
      {0x0303, "liba.so.1", "/lib64/liba.so.1", 0, 0x00030200},
      {0x0001, "libb.so.1", "/lib/elf/libb.so.1"},
      {0x0303, "libc.so.6", "/lib64/libc.so.6"},
  };
  std::vector<std::string> hwcaps = {"x86-64-v2", "x86-64-v3"};

  auto check = [&](const LdCache& c) {
    REQUIRE(c.entries().size() == es.size());
    CHECK(c.entries()[0].hwcaps_subdir == "x86-64-v3");
    CHECK(c.entries()[1].hwcaps_subdir == "x86-64-v2");
    CHECK(c.entries()[2].hwcaps_subdir.empty());
    CHECK(c.entries()[4].osversion == 0x00030200);
    CHECK(c.lookup("liba.so.1", 0x0303) == "/lib64/liba.so.1");
    CHECK(c.lookup("liba.so.1", 0x0003) == "/lib32/liba.so.1");
    CHECK(c.hwcaps_variants("liba.so.1", 0x0303) ==
          std::vector<std::string>{"/hw/glibc-hwcaps/x86-64-v3/liba.so.1",
                                   "/hw/glibc-hwcaps/x86-64-v2/liba.so.1"});
    // Generic ports (i386) accept FLAG_ELF; x86-64 wants its exact flags.
    CHECK(c.lookup("libb.so.1", 0x0003) == "/lib/elf/libb.so.1");
    CHECK_FALSE(c.lookup("libb.so.1", 0x0303));
  };

  SECTION("new, little-endian") {
    check(parse(new_table(es, hwcaps, false)));
  }
  SECTION("new, big-endian") {
    check(parse(new_table(es, hwcaps, true)));
  }
  SECTION("new, endianness unset is read little-endian") {
    check(parse(new_table(es, hwcaps, false, 0, 0)));
  }
  SECTION("new, marked invalid: no entries, as the loader ignores it") {
    CHECK(parse(new_table(es, hwcaps, false, 0, 1)).entries().empty());
  }
  SECTION("compat with 8-byte alignment padding (odd old count)") {
    std::vector<Syn> old = {{0x0303, "liba.so.1", "/old/liba.so.1"}};  // 16 + 12 = 28 -> 32
    std::string prefix = old_table(old, false);
    size_t old_end = 28;
    std::string pad(32 - old_end, '\0');
    std::string file = prefix.substr(0, old_end) + pad + new_table(es, hwcaps, false, 32);
    check(parse(file));
  }
  SECTION("compat aligned to 4 only (i386 __alignof__), big-endian") {
    std::vector<Syn> old = {{0x0303, "liba.so.1", "/old/liba.so.1"}};
    std::string file = old_table(old, true).substr(0, 28) + new_table(es, hwcaps, true, 28);
    check(parse(file));
  }
  SECTION("old, both byte orders") {
    std::vector<Syn> plain = {{0x0303, "liba.so.1", "/old/liba.so.1"},
                              {0x0001, "libb.so.1", "/old/libb.so.1"}};
    for (bool big : {false, true}) {
      LdCache c = parse(old_table(plain, big));
      REQUIRE(c.entries().size() == 2);
      CHECK(c.lookup("liba.so.1", 0x0303) == "/old/liba.so.1");
      CHECK(c.lookup("libb.so.1", 0x0003) == "/old/libb.so.1");
    }
  }
  SECTION("empty tables") {
    CHECK(parse(new_table({}, {}, false) + std::string(1, '\0')).entries().empty());
    CHECK(parse(old_table({}, false) + std::string(1, '\0')).entries().empty());
  }
}

TEST_CASE("ld_cache_flags follows each port's _DL_CACHE_DEFAULT_ID") {
  CHECK(ld_cache_flags(true, 62) == 0x0303);   // x86-64
  CHECK(ld_cache_flags(false, 62) == 0x0803);  // x32
  CHECK(ld_cache_flags(false, 3) == 0x0003);   // i386
  CHECK(ld_cache_flags(true, 183) == 0x0a03);  // aarch64
  CHECK(ld_cache_flags(true, 21) == 0x0503);   // ppc64 / ppc64le
  CHECK(ld_cache_flags(true, 22) == 0x0403);   // s390x
  CHECK(ld_cache_flags(true, 243) == 0x1003);  // riscv64 lp64d
  CHECK_FALSE(ld_cache_flags(false, 40));      // arm: depends on the float ABI
  CHECK_FALSE(ld_cache_flags(true, 3));
  CHECK_FALSE(ld_cache_flags(true, 0xffff));
}

TEST_CASE("hostile caches throw dslim::Error and never read out of bounds") {
  std::vector<Syn> es = {
      {0x0303, "liba.so.1", "/hw/glibc-hwcaps/x86-64-v3/liba.so.1", (1ULL << 62) | 0},
      {0x0303, "liba.so.1", "/lib64/liba.so.1"},
      {0x0303, "libc.so.6", "/lib64/libc.so.6"},
  };
  std::vector<std::string> samples = {
      new_table(es, {"x86-64-v3"}, false),
      new_table(es, {"x86-64-v3"}, true),
      old_table(es, false),
      old_table(es, false).substr(0, 16 + 12 * 3 + 4) + new_table(es, {"x86-64-v3"}, false, 56),
  };
  // Real ldconfig output too, when the tools are here.
  if (have_tools()) {
    LdconfigRoot& r = shared_root();
    if (r.ok)
      for (const char* f : {"new", "old", "compat"})
        if (auto p = r.make(f)) samples.push_back(read_file(*p));
  }

  SECTION("messages name the file") {
    try {
      parse("definitely not a cache, but long enough to have been one ........");
      FAIL("no error");
    } catch (const dslim::Error& e) {
      CHECK(std::string(e.what()) == "test.cache: not an ld.so.cache file");
    }
    std::string bad = new_table(es, {}, false);
    put(bad, 48 + 4, 123456, 4, false);  // first key
    try {
      parse(bad);
      FAIL("no error");
    } catch (const dslim::Error& e) {
      CHECK(std::string(e.what()) ==
            "test.cache: corrupt ld.so.cache (string offset 123456 beyond end)");
    }
    CHECK_THROWS_AS(parse(""), dslim::Error);
    CHECK_THROWS_AS(parse("ld.so-1.7.0"), dslim::Error);
    CHECK_THROWS_AS(parse("glibc-ld.so.cache1.1"), dslim::Error);
  }

  SECTION("huge counts") {
    for (std::string s : samples) {
      bool is_new = s.rfind("glibc", 0) == 0;
      bool big = is_new && s[28] == 3;
      put(s, is_new ? 20 : 12, 0xffffffffu, 4, big);
      CHECK_THROWS_AS(parse(s), dslim::Error);
    }
    std::string s = new_table(es, {"x86-64-v3"}, false);
    size_t ext = le32(s, 32);
    put(s, ext + 4, 0x10000000u, 4, false);  // extension section count
    CHECK_THROWS_AS(parse(s), dslim::Error);
    s = new_table(es, {"x86-64-v3"}, false);
    put(s, 48 + 16, (1ULL << 62) | 7, 8, false);  // hwcaps index past the array
    CHECK_THROWS_AS(parse(s), dslim::Error);
  }

  // The host's cache too: a large real table (cut at fewer points).
  if (fs::exists("/etc/ld.so.cache")) samples.push_back(read_file("/etc/ld.so.cache"));

  SECTION("truncated at every length") {
    for (const auto& s : samples)
      for (size_t n = 0; n <= s.size(); n += (s.size() > 4096 && n > 256 ? 61 : 1))
        parse_or_error(s.substr(0, n));
  }

  SECTION("2000 seeded random mutations") {
    std::mt19937 rng(20240611);
    for (int i = 0; i < 2000; ++i) {
      std::string s = samples[i % samples.size()];
      int edits = 1 + static_cast<int>(rng() % 4);
      for (int k = 0; k < edits; ++k) {
        size_t at = rng() % s.size();
        switch (rng() % 3) {
          case 0:
            s[at] = static_cast<char>(rng());
            break;
          case 1:  // a plausible-looking 32-bit field
            if (at + 4 <= s.size()) put(s, at, rng() % (s.size() + 64), 4, false);
            break;
          default:
            if (at + 4 <= s.size()) put(s, at, 0xffffffffu - rng() % 16, 4, false);
            break;
        }
      }
      parse_or_error(s);
    }
  }
}
