// glibc's gconv configuration: names normalised as iconv_open normalises
// them, text configurations in memory (aliases, modules, comments, the .d
// directory, glibc's conflict and cost rules, hostile sizes), caches written
// by the real iconvconfig and hostile ones, this machine's Debian root; and
// what the reader returns checked against the real glibc, which must convert
// with exactly those files and fail without them.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <list>
#include <map>
#include <set>
#include <sstream>

#include "dslim/error.hpp"
#include "dslim/gconv.hpp"
#include "dslim/rootfs.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using dslim::resolve::gconv_charset_name;
using dslim::resolve::GconvConfig;
using dslim::resolve::read_gconv_config;
using dslim::rootfs::MemRootFs;
using V = std::vector<std::string>;

namespace {

const std::string kDir = "/usr/lib/x86_64-linux-gnu/gconv";
const std::string kLibDir = "/usr/lib/x86_64-linux-gnu";

// The Match for each name, by name.
std::map<std::string, GconvConfig::Match> matches(const GconvConfig& c, const V& names) {
  std::map<std::string, GconvConfig::Match> out;
  for (auto& m : c.modules_for(names)) out.emplace(m.name, m);
  return out;
}

// The modules a single name needs (none if glibc does not know it).
V modules(const GconvConfig& c, const std::string& name) {
  auto m = c.modules_for({name});
  return m.empty() ? V{} : m[0].modules;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs a shell command: its exit status and stdout.
std::pair<int, std::string> run_status(const std::string& cmd) {
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return {-1, ""};
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = pclose(p);
  return {status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// iconvconfig lives in /usr/sbin, off a user's PATH.
const char kIconvconfig[] = "/usr/sbin/iconvconfig";
bool have_iconvconfig() {
  if (fs::exists(kIconvconfig)) return true;
  if (std::getenv("CI")) throw std::runtime_error("iconvconfig is required under CI (libc-bin)");
  return false;
}

// A gconv-modules.cache that the real iconvconfig makes from `text` as if it
// were <kDir>/gconv-modules (the directory it records is kDir).
std::string make_cache(const std::string& text) {
  dslim::test::TempDir tmp;
  fs::create_directories(tmp.path() / kDir.substr(1));
  std::ofstream(tmp.path() / kDir.substr(1) / "gconv-modules") << text;
  const fs::path out = tmp.path() / "out.cache";
  dslim::test::run(std::string(kIconvconfig) + " --nostdlib --prefix=" + quote(tmp.str()) + " -o " +
                   quote(out.string()) + " " + kDir);
  return read_file(out);
}

const std::string kConfig =
    "# GNU libc iconv configuration.\n"
    "#\tfrom\t\t\tto\t\t\tmodule\t\tcost\n"
    "alias\tISO-IR-100//\t\tISO-8859-1//\n"
    "alias  LATIN1//  ISO-8859-1//   # a trailing comment\n"
    "alias\tlatin-9//\tISO-8859-15//\n"  // upper-cased as glibc does
    "module\tISO-8859-1//\t\tINTERNAL\t\tISO8859-1\t1\n"
    "module\tINTERNAL\t\tISO-8859-1//\t\tISO8859-1\t1\n"
    "\n"
    "   \t  \n"
    "module ISO-8859-15// INTERNAL ISO8859-15\n"       // no cost: 1
    "module INTERNAL ISO-8859-15// ISO8859-15.so 1\n"  // ".so" not added twice
    "bogus line that glibc ignores\n"
    "Module FOO// INTERNAL FOO 1\n"           // keywords are case-sensitive
    "module ONLYTWO// INTERNAL\n"             // no file: skipped
    "module ONLYTWO// INTERNAL   \n"          // still none
    "alias ONEWORD//\n"                       // no target: skipped
    "alias ISO-8859-1// KOI8-R//\n"           // over a module's name: skipped
    "module LATIN1// INTERNAL NOTLATIN1 1\n"  // over an alias: skipped
    "alias LATIN1// KOI8-R//\n"               // the first alias wins
    "module EUC-JP// INTERNAL EUC-JP 1\r\n"   // CR is white space
    "module INTERNAL EUC-JP// EUC-JP 1 # comment\n"
    // Two modules for one conversion: the cheaper is kept (-7 means 1).
    "module DUP// INTERNAL DUP-EXPENSIVE 5\n"
    "module DUP// INTERNAL DUP-CHEAP -7\n"
    "module INTERNAL DUP// DUP-CHEAP junk\n"  // not a number: 1
    // Equal cost: the first line wins.
    "module TIE// INTERNAL TIE-FIRST 2\n"
    "module TIE// INTERNAL TIE-SECOND 2\n"
    // Two steps: BAR -> BAZ -> INTERNAL.
    "module BAR// BAZ// BARBAZ 1\n"
    "module BAZ// INTERNAL BAZ 1\n"
    "module INTERNAL BAR// BAR 1\n"
    // Absolute file, and a name ending in something other than .so.
    "module ABS// INTERNAL /opt/gconv/ABS 1\n"
    "module VER// INTERNAL libVER.so.1 1\n"
    // A module file the root lacks.
    "module MISS// INTERNAL MISS 1\n"
    "module INTERNAL MISS// MISS 1\n"
    // A direct module between two charsets, cheaper than through INTERNAL.
    "module EUC-JP// KOI8-R// JPKOI 1\n"
    // An embedded NUL ends the line (it is a C string).
    + std::string("module NUL// INTERNAL NUL\0junk 9\n", 33) +
    // Alias loops and chains: glibc follows one alias, never more.
    "alias LOOP-A// LOOP-B//\n"
    "alias LOOP-B// LOOP-A//\n"
    "alias HOP1// HOP2//\n"
    "alias HOP2// ISO-8859-1//\n";

const char kExtraConf[] =
    "alias KOI8// KOI8-R//\n"
    "module KOI8-R// INTERNAL KOI8-R 1\n"
    "module INTERNAL KOI8-R// KOI8-R 1\n";

const char* const kModuleFiles[] = {
    "ISO8859-1.so", "ISO8859-15.so", "EUC-JP.so",      "KOI8-R.so",   "DUP-EXPENSIVE.so",
    "DUP-CHEAP.so", "TIE-FIRST.so",  "TIE-SECOND.so",  "BARBAZ.so",   "BAZ.so",
    "BAR.so",       "JPKOI.so",      "libVER.so.1.so", "NUL.so",      "LINKED.so",
    "NOTCONF.so",   "DOTCONF.so",    "FOO.so",         "NOTLATIN1.so"};

// gconv-modules with `config` and the module files, nothing else.
MemRootFs plain_root(const std::string& config) {
  MemRootFs root;
  root.add_file(kDir + "/gconv-modules", config);
  for (const char* so : kModuleFiles) root.add_file(kDir + "/" + so, "ELF");
  root.add_file("/opt/gconv/ABS.so", "ELF");
  return root;
}

MemRootFs config_root(const std::string& config = kConfig) {
  MemRootFs root;
  root.add_file(kLibDir + "/libc.so.6", "ELF");
  root.add_file(kDir + "/gconv-modules", config);
  root.add_file(kDir + "/gconv-modules.d/extra.conf", kExtraConf);
  root.add_file(kDir + "/gconv-modules.d/README", "module NOTCONF// INTERNAL NOTCONF 1\n");
  root.add_file(kDir + "/gconv-modules.d/.conf", "module DOTCONF// INTERNAL DOTCONF 1\n");
  root.add_dir(kDir + "/gconv-modules.d/dir.conf");
  root.add_symlink(kDir + "/gconv-modules.d/link.conf", "../linked");
  root.add_file(kDir + "/linked", "module LINKED// INTERNAL LINKED 1\n");
  for (const char* so : kModuleFiles) root.add_file(kDir + "/" + so, "ELF");
  root.add_file("/opt/gconv/ABS.so", "ELF");
  return root;
}

std::string in_dir(const std::string& name) {
  return kDir + "/" + name;
}

}  // namespace

TEST_CASE("gconv names are normalised as iconv_open normalises them") {
  CHECK(gconv_charset_name("latin1") == "LATIN1//");
  CHECK(gconv_charset_name("UTF-8") == "UTF-8//");
  CHECK(gconv_charset_name("utf-8//TRANSLIT") == "UTF-8//");
  CHECK(gconv_charset_name("ISO-8859-15//translit,ignore") == "ISO-8859-15//");
  CHECK(gconv_charset_name("ISO-8859-15//IGNORE//TRANSLIT/") == "ISO-8859-15//");
  CHECK(gconv_charset_name("ISO-8859-15/") == "ISO-8859-15//");
  CHECK(gconv_charset_name("ISO-10646/UTF8") == "ISO-10646/UTF8/");
  CHECK(gconv_charset_name("ISO-10646/UTF8/TRANSLIT") == "ISO-10646/UTF8/");
  CHECK(gconv_charset_name(" euc-jp ") == "EUC-JP//");
  CHECK(gconv_charset_name("ISO_646.IRV:1991") == "ISO_646.IRV:1991//");
  CHECK(gconv_charset_name("a b$c") == "ABC//");
  CHECK(gconv_charset_name("") == "//");  // the locale's charset: not a name
  CHECK(gconv_charset_name(std::string("KOI8-R\0junk", 11)) == "KOI8-R//");
}

TEST_CASE("gconv: a text configuration with aliases, modules, comments and a .d directory") {
  MemRootFs root = config_root();
  auto config = read_gconv_config(root, kLibDir);
  REQUIRE(config);
  CHECK(config->dir() == kDir);
  // gconv-modules first, then the .conf files by name: not README, not a file
  // named just ".conf", not a directory; a symlink to a file is read.
  CHECK(config->files() == V{in_dir("gconv-modules"), in_dir("gconv-modules.d/extra.conf"),
                             in_dir("gconv-modules.d/link.conf")});

  auto m = matches(*config, {"latin1", "iso-8859-15//TRANSLIT", "Latin-9", "ISO-IR-100", "UTF-8",
                             "utf8", "ascii", "US-ASCII//IGNORE", "wchar_t", "UCS-2LE",
                             "ISO-10646/UCS4", "nonexistent", "EUC-JP", "LINKED"});
  CHECK(m.count("nonexistent") == 0);  // glibc does not know it: no match
  CHECK(m.size() == 13);
  CHECK(m["latin1"].charset == "ISO-8859-1//");
  CHECK(m["latin1"].modules == V{in_dir("ISO8859-1.so")});
  CHECK(m["ISO-IR-100"].modules == V{in_dir("ISO8859-1.so")});
  CHECK(m["iso-8859-15//TRANSLIT"].charset == "ISO-8859-15//");
  CHECK(m["iso-8859-15//TRANSLIT"].modules == V{in_dir("ISO8859-15.so")});
  CHECK(m["Latin-9"].modules == V{in_dir("ISO8859-15.so")});
  CHECK(m["EUC-JP"].modules == V{in_dir("EUC-JP.so")});  // JPKOI only with KOI8-R asked
  auto koi8 = config->modules_for({"KOI8"});
  REQUIRE(koi8.size() == 1);
  CHECK(koi8[0].charset == "KOI8-R//");
  CHECK(koi8[0].modules == V{in_dir("KOI8-R.so")});
  CHECK(m["LINKED"].modules == V{in_dir("LINKED.so")});
  // Builtin to libc: nothing to add.
  CHECK(m["UTF-8"].charset == "ISO-10646/UTF8/");
  for (const char* builtin :
       {"UTF-8", "utf8", "ascii", "US-ASCII//IGNORE", "wchar_t", "UCS-2LE", "ISO-10646/UCS4"}) {
    INFO(builtin);
    CHECK(m[builtin].modules.empty());
    CHECK(m[builtin].missing.empty());
  }
  CHECK(m["ascii"].charset == "ANSI_X3.4-1968//");
  CHECK(m["wchar_t"].charset == "INTERNAL");

  // Lines glibc skips add nothing.
  for (const char* skipped : {"FOO", "ONLYTWO", "ONEWORD", "NOTCONF", "DOTCONF"}) {
    INFO(skipped);
    CHECK(config->modules_for({skipped}).empty());
  }
  // An alias over a module's name is dropped; a module over an alias is
  // dropped; the first alias of a name wins.
  CHECK(modules(*config, "ISO-8859-1") == V{in_dir("ISO8859-1.so")});
  CHECK(modules(*config, "LATIN1") == V{in_dir("ISO8859-1.so")});
  // The cheaper module of two; the first of two that cost the same.
  CHECK(modules(*config, "DUP") == V{in_dir("DUP-CHEAP.so")});
  CHECK(modules(*config, "TIE") == V{in_dir("TIE-FIRST.so")});
  // Absolute files stay; ".so" is added unless the name ends so.
  CHECK(modules(*config, "ABS") == V{"/opt/gconv/ABS.so"});
  CHECK(modules(*config, "VER") == V{in_dir("libVER.so.1.so")});
  CHECK(modules(*config, "NUL") == V{in_dir("NUL.so")});
}

TEST_CASE("gconv: conversions of several steps, and direct modules between charsets asked") {
  MemRootFs root = config_root();
  auto config = read_gconv_config(root, kLibDir);
  REQUIRE(config);
  // BAR -> INTERNAL takes BAR -> BAZ -> INTERNAL; INTERNAL -> BAR is direct.
  CHECK(modules(*config, "bar") == V{in_dir("BAR.so"), in_dir("BARBAZ.so"), in_dir("BAZ.so")});
  // BAZ -> INTERNAL is direct; INTERNAL -> BAZ goes INTERNAL -> BAR -> BAZ.
  CHECK(modules(*config, "baz") == V{in_dir("BAR.so"), in_dir("BARBAZ.so"), in_dir("BAZ.so")});
  // EUC-JP -> KOI8-R has a module of its own, which glibc takes over the two
  // through INTERNAL: it comes with both when both are asked for.
  auto m = matches(*config, {"EUC-JP", "KOI8-R"});
  CHECK(m["EUC-JP"].modules == V{in_dir("EUC-JP.so"), in_dir("JPKOI.so")});
  CHECK(m["KOI8-R"].modules == V{in_dir("JPKOI.so"), in_dir("KOI8-R.so")});
}

TEST_CASE("gconv: alias loops and chains end after the one alias glibc follows") {
  MemRootFs root = config_root();
  auto config = read_gconv_config(root, kLibDir);
  REQUIRE(config);
  CHECK(config->modules_for({"LOOP-A", "LOOP-B"}).empty());
  // HOP1 -> HOP2 -> ISO-8859-1: glibc looks HOP1 up once, finds HOP2, which
  // no module converts: iconv_open fails, and so nothing is needed.
  CHECK(config->modules_for({"HOP1"}).empty());
  CHECK(modules(*config, "HOP2") == V{in_dir("ISO8859-1.so")});

  // A long chain and a big loop cost one lookup each.
  std::string chain = kConfig;
  for (int i = 0; i < 5000; ++i) {
    chain += "alias C" + std::to_string(i) + "// C" + std::to_string(i + 1) + "//\n";
  }
  chain += "alias C5000// C0//\n";
  MemRootFs big = config_root(chain);
  auto c2 = read_gconv_config(big, kLibDir);
  REQUIRE(c2);
  CHECK(c2->modules_for({"C0", "C2500", "C5000"}).empty());
}

TEST_CASE("gconv: module files the root lacks are reported, never returned") {
  MemRootFs root = config_root();
  auto config = read_gconv_config(root, kLibDir);
  REQUIRE(config);
  auto m = config->modules_for({"MISS"});
  REQUIRE(m.size() == 1);
  CHECK(m[0].charset == "MISS//");
  CHECK(m[0].modules.empty());
  CHECK(m[0].missing == V{in_dir("MISS.so")});

  // all_modules: the files of the modules glibc keeps that exist.
  V all = config->all_modules();
  CHECK(std::is_sorted(all.begin(), all.end()));
  CHECK(all == V{"/opt/gconv/ABS.so", in_dir("BAR.so"), in_dir("BARBAZ.so"), in_dir("BAZ.so"),
                 in_dir("DUP-CHEAP.so"), in_dir("EUC-JP.so"), in_dir("ISO8859-1.so"),
                 in_dir("ISO8859-15.so"), in_dir("JPKOI.so"), in_dir("KOI8-R.so"),
                 in_dir("LINKED.so"), in_dir("NUL.so"), in_dir("TIE-FIRST.so"),
                 in_dir("libVER.so.1.so")});
}

TEST_CASE("gconv: where the configuration is, and when there is none") {
  SECTION("libc in /lib, gconv under /usr/lib (Debian before the /usr merge)") {
    MemRootFs root;
    root.add_file("/lib/x86_64-linux-gnu/libc.so.6", "ELF");
    root.add_file(kDir + "/gconv-modules", kExtraConf);
    root.add_file(kDir + "/KOI8-R.so", "ELF");
    auto config = read_gconv_config(root, "/lib/x86_64-linux-gnu");
    REQUIRE(config);
    CHECK(config->dir() == kDir);
    CHECK(modules(*config, "koi8-r") == V{in_dir("KOI8-R.so")});
  }
  SECTION("merged /usr: /lib64 -> usr/lib64, the path glibc was built with is kept") {
    MemRootFs root;
    root.add_symlink("/lib64", "usr/lib64");
    root.add_file("/usr/lib64/gconv/gconv-modules", kExtraConf);
    root.add_file("/usr/lib64/gconv/KOI8-R.so", "ELF");
    auto config = read_gconv_config(root, "/lib64");
    REQUIRE(config);
    CHECK(config->dir() == "/usr/lib64/gconv");
    CHECK(config->files() == V{"/usr/lib64/gconv/gconv-modules"});
    CHECK(modules(*config, "KOI8-R") == V{"/usr/lib64/gconv/KOI8-R.so"});
  }
  SECTION("only gconv-modules.d") {
    MemRootFs root;
    root.add_file("/usr/lib64/gconv/gconv-modules.d/a.conf", kExtraConf);
    root.add_file("/usr/lib64/gconv/KOI8-R.so", "ELF");
    auto config = read_gconv_config(root, "/usr/lib64");
    REQUIRE(config);
    CHECK(config->files() == V{"/usr/lib64/gconv/gconv-modules.d/a.conf"});
    CHECK(modules(*config, "KOI8") == V{"/usr/lib64/gconv/KOI8-R.so"});
  }
  SECTION("none") {
    MemRootFs root;
    root.add_file(kLibDir + "/libc.so.6", "ELF");
    CHECK_FALSE(read_gconv_config(root, kLibDir));
    root.add_dir(kDir);
    CHECK_FALSE(read_gconv_config(root, kLibDir));
    root.add_dir(kDir + "/gconv-modules.d");
    root.add_dir(kDir + "/gconv-modules");  // a directory is no configuration
    root.add_file(kDir + "/gconv-modules.d/README", "module A// INTERNAL A\n");
    CHECK_FALSE(read_gconv_config(root, kLibDir));
    root.add_symlink(kDir + "/gconv-modules.d/loop.conf", "loop.conf");
    CHECK_FALSE(read_gconv_config(root, kLibDir));  // fopen would fail: ELOOP
  }
}

TEST_CASE("gconv: hostile configurations fail clearly or cost little") {
  SECTION("a file over 16 MiB") {
    MemRootFs root;
    root.add_file(kDir + "/gconv-modules", std::string((16u << 20) + 1, '#'));
    CHECK_THROWS_WITH(read_gconv_config(root, kLibDir),
                      Contains(kDir + "/gconv-modules in memory") && Contains("16 MiB"));
  }
  SECTION("millions of alias lines") {
    std::string text;
    text.reserve(4'000'000);
    for (int i = 0; i < 250'000; ++i) text += "alias A" + std::to_string(i) + "// B//\n";
    MemRootFs root;
    root.add_file(kDir + "/gconv-modules.d/x.conf", text);
    CHECK_THROWS_WITH(read_gconv_config(root, kLibDir),
                      Contains(kDir + "/gconv-modules.d/x.conf:200001") &&
                          Contains("more than 200000 alias and module lines"));
  }
  SECTION("millions of lines glibc ignores are read, and cost nothing") {
    std::string text(6'000'000, '\n');
    for (size_t i = 0; i < text.size(); i += 3) text[i] = '#';
    text += "module KOI8-R// INTERNAL KOI8-R 1\n";
    MemRootFs root;
    root.add_file(kDir + "/gconv-modules", text);
    root.add_file(kDir + "/KOI8-R.so", "ELF");
    auto config = read_gconv_config(root, kLibDir);
    REQUIRE(config);
    CHECK(modules(*config, "KOI8-R") == V{in_dir("KOI8-R.so")});
  }
  SECTION("a line of 10 MiB") {
    std::string text = "module " + std::string(10u << 20, 'X') + " INTERNAL LONG 1\n";
    text += "module KOI8-R// INTERNAL KOI8-R 1\n";
    MemRootFs root;
    root.add_file(kDir + "/gconv-modules", text);
    auto config = read_gconv_config(root, kLibDir);
    REQUIRE(config);
    CHECK(config->modules_for({"KOI8-R"}).size() == 1);
  }
  SECTION("32 MiB in all") {
    MemRootFs root;
    for (int i = 0; i < 3; ++i) {
      root.add_file(kDir + "/gconv-modules.d/" + std::to_string(i) + ".conf",
                    std::string(12u << 20, '\n'));
    }
    CHECK_THROWS_WITH(read_gconv_config(root, kLibDir),
                      Contains("2.conf in memory") && Contains("32 MiB"));
  }
}

// Text on which iconvconfig and glibc's text parser agree: no name both an
// alias and a module, one module per conversion, both directions of each.
const char kCleanConfig[] =
    "alias LATIN1// ISO-8859-1//\n"
    "alias ISO-IR-100// ISO-8859-1//\n"
    "module ISO-8859-1// INTERNAL ISO8859-1 1\n"
    "module INTERNAL ISO-8859-1// ISO8859-1 1\n"
    "alias LATIN-9// ISO-8859-15//\n"
    "module ISO-8859-15// INTERNAL ISO8859-15\n"
    "module INTERNAL ISO-8859-15// ISO8859-15.so 1\n"
    "module EUC-JP// INTERNAL EUC-JP 1\n"
    "module INTERNAL EUC-JP// EUC-JP 1\n"
    "module EUC-JP// KOI8-R// JPKOI 1\n"
    "alias KOI8// KOI8-R//\n"
    "module KOI8-R// INTERNAL KOI8-R 1\n"
    "module INTERNAL KOI8-R// KOI8-R 1\n"
    "module ABS// INTERNAL /opt/gconv/ABS 1\n"
    "module INTERNAL ABS// /opt/gconv/ABS 1\n"
    "module VER// INTERNAL libVER.so.1 1\n"
    "module INTERNAL VER// libVER.so.1 1\n"
    "module MISS// INTERNAL MISS 1\n"
    "module INTERNAL MISS// MISS 1\n"
    "module BAR// BAZ// BARBAZ 1\n"
    "module BAZ// INTERNAL BAZ 1\n"
    "module INTERNAL BAR// BAR 1\n";

TEST_CASE("gconv: gconv-modules.cache as iconvconfig writes it") {
  if (!have_iconvconfig()) {
    WARN("no " << kIconvconfig << ": cache checks left out");
    return;
  }
  const std::string cache = make_cache(kCleanConfig);
  const V names = {"latin1",  "ISO-IR-100", "ISO-8859-15//TRANSLIT",
                   "latin-9", "UTF-8",      "ascii",
                   "wchar_t", "UCS-2LE",    "EUC-JP",
                   "KOI8",    "KOI8-R",     "VER",
                   "MISS",    "nonexistent"};

  SECTION("the cache alone: the same modules as the text it was made from") {
    MemRootFs text_root = plain_root(kCleanConfig);
    // Only the cache: no gconv-modules, no .d.
    MemRootFs only_cache;
    only_cache.add_file(kDir + "/gconv-modules.cache", cache);
    for (const char* so : kModuleFiles) only_cache.add_file(kDir + "/" + so, "ELF");
    only_cache.add_file("/opt/gconv/ABS.so", "ELF");
    auto from_text = read_gconv_config(text_root, kLibDir);
    auto from_cache = read_gconv_config(only_cache, kLibDir);
    REQUIRE(from_text);
    REQUIRE(from_cache);
    CHECK(from_cache->files() == V{in_dir("gconv-modules.cache")});
    for (const auto& name : names) {
      INFO(name);
      auto t = from_text->modules_for({name});
      auto c = from_cache->modules_for({name});
      REQUIRE(t.size() == c.size());
      if (t.empty()) continue;
      CHECK(t[0].charset == c[0].charset);
      CHECK(t[0].modules == c[0].modules);
      CHECK(t[0].missing == c[0].missing);
    }
    CHECK(from_cache->modules_for({"MISS"})[0].missing == V{in_dir("MISS.so")});
    // The direct module between two charsets asked for (the cache's extra table).
    auto m = matches(*from_cache, {"EUC-JP", "KOI8-R"});
    CHECK(m["EUC-JP"].modules == V{in_dir("EUC-JP.so"), in_dir("JPKOI.so")});
    CHECK(m["KOI8-R"].modules == V{in_dir("JPKOI.so"), in_dir("KOI8-R.so")});
    // glibc's cache lookup converts through INTERNAL only a charset that has
    // both directions (its test looks at the INTERNAL -> X module of the
    // charset converted from): BAR and BAZ, which lack one each, get only the
    // extra table's BAR -> BAZ. The text database goes BAR -> BAZ -> INTERNAL.
    auto bar = from_cache->modules_for({"BAR", "BAZ"});
    REQUIRE(bar.size() == 2);
    CHECK(bar[0].modules == V{in_dir("BARBAZ.so")});
    CHECK(bar[1].modules == V{in_dir("BARBAZ.so")});
    CHECK(modules(*from_text, "BAR") == V{in_dir("BAR.so"), in_dir("BARBAZ.so"), in_dir("BAZ.so")});
    // iconvconfig records every module under its directory, absolute or not,
    // and glibc loads <dir>/<file>: an absolute file is not found there.
    auto abs = from_cache->modules_for({"ABS"});
    REQUIRE(abs.size() == 1);
    CHECK(abs[0].missing == V{in_dir("opt/gconv/ABS.so")});
    CHECK(modules(*from_text, "ABS") == V{"/opt/gconv/ABS.so"});
    V text_all = from_text->all_modules();
    std::erase(text_all, "/opt/gconv/ABS.so");
    CHECK(from_cache->all_modules() == text_all);
  }

  SECTION("iconvconfig keeps the first module of a conversion, glibc the cheapest: both") {
    const std::string text =
        "module DUP// INTERNAL DUP-EXPENSIVE 5\n"
        "module DUP// INTERNAL DUP-CHEAP 1\n"
        "module INTERNAL DUP// DUP-CHEAP 1\n";
    MemRootFs root = plain_root(text);
    root.add_file(kDir + "/gconv-modules.cache", make_cache(text));
    auto config = read_gconv_config(root, kLibDir);
    REQUIRE(config);
    CHECK(modules(*config, "dup") == V{in_dir("DUP-CHEAP.so"), in_dir("DUP-EXPENSIVE.so")});
  }

  SECTION("both: the cache is in files(), and a stale cache's modules are added") {
    MemRootFs root = config_root();
    root.add_file(kDir + "/gconv-modules.cache",
                  make_cache("module STALE// INTERNAL STALE 1\n"
                             "module INTERNAL STALE// STALE 1\n"
                             "module ISO-8859-1// INTERNAL OLD-8859-1 1\n"
                             "module INTERNAL ISO-8859-1// OLD-8859-1 1\n"));
    root.add_file(kDir + "/OLD-8859-1.so", "ELF");
    auto config = read_gconv_config(root, kLibDir);
    REQUIRE(config);
    CHECK(config->files().back() == in_dir("gconv-modules.cache"));
    CHECK(modules(*config, "ISO-8859-1") == V{in_dir("ISO8859-1.so"), in_dir("OLD-8859-1.so")});
    // LATIN1 is an alias only the text knows.
    CHECK(modules(*config, "latin1") == V{in_dir("ISO8859-1.so")});
    auto stale = config->modules_for({"STALE"});
    REQUIRE(stale.size() == 1);
    CHECK(stale[0].missing == V{in_dir("STALE.so")});
  }

  SECTION("a cache glibc would not take is ignored, and still carried") {
    std::string bad = cache;
    bad[0] ^= 0x55;  // the magic
    MemRootFs root = config_root();
    root.add_file(kDir + "/gconv-modules.cache", bad);
    auto config = read_gconv_config(root, kLibDir);
    REQUIRE(config);
    CHECK(config->files().back() == in_dir("gconv-modules.cache"));
    CHECK(modules(*config, "latin1") == V{in_dir("ISO8859-1.so")});
  }
}

TEST_CASE("gconv: hostile caches") {
  // header: magic, string_offset, hash_offset, hash_size, module_offset, otherconv_offset
  auto header = [](uint16_t so, uint16_t ho, uint16_t hs, uint16_t mo, uint16_t oo) {
    std::string h(16, '\0');
    const uint32_t magic = 0x20010324;
    std::memcpy(h.data(), &magic, 4);
    const uint16_t v[] = {so, ho, hs, mo, oo};
    std::memcpy(h.data() + 4, v, sizeof v);
    return h;
  };
  std::list<MemRootFs> roots;  // outlive the configurations read from them
  auto only_cache = [&](const std::string& bytes) {
    roots.emplace_back().add_file(kDir + "/gconv-modules.cache", bytes);
    return read_gconv_config(roots.back(), kLibDir);
  };
  SECTION("shorter than its header, or offsets past its end: no database, no error") {
    auto c = only_cache("\x24\x03\x01\x20");
    REQUIRE(c);
    CHECK(c->modules_for({"latin1", "UTF-8"}).empty());
    CHECK(c->all_modules().empty());
    c = only_cache(header(16, 0xfff0, 4, 16, 16) + std::string(8, '\0'));
    REQUIRE(c);
    CHECK(c->modules_for({"latin1"}).empty());
  }
  SECTION("a full hash table without the name: glibc would probe forever") {
    // "A//" at 1; 7 hash slots, all naming it; one module.
    std::string bytes = header(16, 24, 7, 52, 64);
    bytes += std::string("\0A//\0\0\0\0", 8);
    for (int i = 0; i < 7; ++i) bytes += std::string("\x01\x00\x00\x00", 4);
    bytes += std::string(12, '\0');
    auto c = only_cache(bytes);
    REQUIRE(c);
    CHECK(c->modules_for({"B", "latin1"}).empty());
    CHECK(c->modules_for({"A"}).size() == 1);  // known, with no module files
  }
  SECTION("a hash table of 2 (glibc divides by zero), strings without a NUL") {
    std::string bytes = header(16, 20, 2, 28, 40);
    bytes += "ABCD";
    bytes += std::string("\x01\x00\x00\x00\x01\x00\x00\x00", 8);
    bytes += std::string(12, '\x01');
    auto c = only_cache(bytes);
    REQUIRE(c);
    CHECK(c->modules_for({"A"}).empty());
    CHECK(c->all_modules().empty());
  }
  SECTION("extra lists that never end") {
    // Names "A//" (module 1) and "B//" (module 2), both converted by /d/m;
    // A's extra list runs on through entries of one step each to the end of
    // a 1 MiB file, none of them to B.
    std::string bytes = header(16, 32, 5, 52, 88);
    bytes += std::string("\0A//\0B//\0/d/\0m\0\0", 16);  // A=1 B=5 /d/=9 m=13
    // hash("A//") = 17439 -> slot 4; hash("B//") = 17695 -> slot 0.
    const uint16_t slots[] = {5, 2, 0, 0, 0, 0, 0, 0, 1, 1};
    bytes.append(reinterpret_cast<const char*>(slots), sizeof slots);
    const uint16_t modules[] = {0, 0, 0,  0, 0,  0,   // 0: INTERNAL
                                1, 9, 13, 9, 13, 1,   // 1: A, extra list at 0 (+1)
                                5, 9, 13, 9, 13, 0};  // 2: B
    bytes.append(reinterpret_cast<const char*>(modules), sizeof modules);
    REQUIRE(bytes.size() == 88);
    while (bytes.size() < (1u << 20)) {
      const uint16_t entry[] = {1, 9, 9, 13};  // one step, to module 9
      bytes.append(reinterpret_cast<const char*>(entry), sizeof entry);
    }
    auto c = only_cache(bytes);
    REQUIRE(c);
    auto m = c->modules_for({"A", "B"});
    REQUIRE(m.size() == 2);
    CHECK(m[0].charset == "A//");
    CHECK(m[0].modules.empty());
    CHECK(m[0].missing == V{"/d/m"});
    CHECK(c->all_modules().empty());
  }
}

// ---------------------------------------------------------------------------
// This machine: Debian 12's glibc 2.36.

namespace {

const std::string kHostDir = "/usr/lib/x86_64-linux-gnu/gconv";

bool have_host_gconv() {
  if (fs::exists(kHostDir + "/gconv-modules")) return true;
  if (std::getenv("CI")) throw std::runtime_error(kHostDir + "/gconv-modules is required under CI");
  return false;
}

// The files the host's gconv-modules* name, the simple way: the third word of
// every module line, ".so" added unless there.
std::set<std::string> host_named_modules() {
  std::set<std::string> out;
  std::vector<fs::path> files = {kHostDir + "/gconv-modules"};
  if (fs::is_directory(kHostDir + "/gconv-modules.d")) {
    for (auto& e : fs::directory_iterator(kHostDir + "/gconv-modules.d")) {
      if (e.path().extension() == ".conf") files.push_back(e.path());
    }
  }
  for (auto& f : files) {
    std::istringstream in(read_file(f));
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream words(line.substr(0, line.find('#')));
      std::string keyword, from, to, file;
      if (!(words >> keyword >> from >> to >> file) || keyword != "module") continue;
      if (!file.ends_with(".so")) file += ".so";
      if (fs::is_regular_file(kHostDir + "/" + file)) out.insert(kHostDir + "/" + file);
    }
  }
  return out;
}

// Every name (alias or module charset) the host's text files mention.
V host_names() {
  std::set<std::string> out;
  std::vector<fs::path> files = {kHostDir + "/gconv-modules"};
  for (auto& e : fs::directory_iterator(kHostDir + "/gconv-modules.d")) files.push_back(e.path());
  for (auto& f : files) {
    std::istringstream in(read_file(f));
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream words(line.substr(0, line.find('#')));
      std::string keyword, a, b;
      if (!(words >> keyword >> a >> b)) continue;
      if (keyword == "alias") {
        out.insert(a);
      } else if (keyword == "module") {
        out.insert(a);
        out.insert(b);
      }
    }
  }
  return {out.begin(), out.end()};
}

}  // namespace

TEST_CASE("gconv: this machine's Debian root") {
  if (!have_host_gconv()) {
    WARN("no " << kHostDir << ": host checks left out");
    return;
  }
  dslim::rootfs::DirRootFs root("/");
  auto config = read_gconv_config(root, kLibDir);
  REQUIRE(config);
  CHECK(config->dir() == kHostDir);
  CHECK(config->files().front() == kHostDir + "/gconv-modules");
  if (fs::exists(kHostDir + "/gconv-modules.cache")) {
    CHECK(config->files().back() == kHostDir + "/gconv-modules.cache");
  }
  CHECK(modules(*config, "ISO-8859-15") == V{kHostDir + "/ISO8859-15.so"});
  CHECK(modules(*config, "latin1") == V{kHostDir + "/ISO8859-1.so"});
  CHECK(modules(*config, "EUC-JP") == V{kHostDir + "/EUC-JP.so"});
  CHECK(modules(*config, "euc-jp//TRANSLIT") == V{kHostDir + "/EUC-JP.so"});
  auto utf8 = config->modules_for({"UTF-8"});
  REQUIRE(utf8.size() == 1);
  CHECK(utf8[0].modules.empty());
  CHECK(utf8[0].missing.empty());

  const std::set<std::string> named = host_named_modules();
  const V all = config->all_modules();
  CHECK(all.size() == named.size());
  CHECK(std::set<std::string>(all.begin(), all.end()) == named);

  // Every name at once (a program that names them all): each charset gets at
  // least what it gets alone, and its conversions with the others.
  const V names = host_names();
  auto together = config->modules_for(names);
  size_t known = 0;
  for (const auto& m : together) {
    INFO(m.name);
    auto alone = config->modules_for({m.name});
    REQUIRE(alone.size() == 1);
    CHECK(std::includes(m.modules.begin(), m.modules.end(), alone[0].modules.begin(),
                        alone[0].modules.end()));
    ++known;
  }
  CHECK(known > 1000);
  auto cn = matches(*config, {"EUC-CN", "BIG5"});  // GBBIG5.so converts between them
  CHECK(cn["EUC-CN"].modules == V{kHostDir + "/EUC-CN.so", kHostDir + "/GBBIG5.so"});
  CHECK(cn["BIG5"].modules == V{kHostDir + "/BIG5.so", kHostDir + "/GBBIG5.so"});

  // The text files alone and the cache alone agree on every name they know.
  if (fs::exists(kHostDir + "/gconv-modules.cache")) {
    MemRootFs text_only, cache_only;
    text_only.add_host_file(kHostDir + "/gconv-modules", kHostDir + "/gconv-modules");
    for (auto& e : fs::directory_iterator(kHostDir + "/gconv-modules.d")) {
      text_only.add_host_file(kHostDir + "/gconv-modules.d/" + e.path().filename().string(),
                              e.path().string());
    }
    cache_only.add_host_file(kHostDir + "/gconv-modules.cache", kHostDir + "/gconv-modules.cache");
    for (const auto& path : all) {
      text_only.add_file(path, "");
      cache_only.add_file(path, "");
    }
    auto t = read_gconv_config(text_only, kLibDir);
    auto c = read_gconv_config(cache_only, kLibDir);
    REQUIRE(t);
    REQUIRE(c);
    CHECK(t->all_modules() == c->all_modules());
    CHECK(names.size() > 1000);
    size_t compared = 0;
    for (const auto& name : names) {
      auto a = t->modules_for({name});
      auto b = c->modules_for({name});
      INFO(name);
      REQUIRE(a.size() == b.size());
      if (a.empty()) continue;
      CHECK(a[0].charset == b[0].charset);
      CHECK(a[0].modules == b[0].modules);
      ++compared;
    }
    CHECK(compared > 1000);
  }
}

// ---------------------------------------------------------------------------
// The real glibc converts with exactly the files returned, and fails without.

namespace {

const char kProbe[] = R"(#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <string.h>
/* argv: TO FROM pairs. Opens each and converts "abc"; exit 1 if any fails. */
int main(int argc, char** argv) {
  int bad = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    iconv_t cd = iconv_open(argv[i], argv[i + 1]);
    if (cd == (iconv_t)-1) {
      printf("%s <- %s: %s\n", argv[i], argv[i + 1], strerror(errno));
      bad = 1;
      continue;
    }
    char in[] = "abc", out[64];
    char *ip = in, *op = out;
    size_t il = 3, ol = sizeof out;
    if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1) {
      printf("%s <- %s: iconv: %s\n", argv[i], argv[i + 1], strerror(errno));
      bad = 1;
    } else {
      printf("%s <- %s: ok\n", argv[i], argv[i + 1]);
    }
    iconv_close(cd);
  }
  return bad;
}
)";

// Shared libraries a module needs that live beside it (EUC-JP.so needs
// libJIS.so through RUNPATH $ORIGIN): dslim's resolver finds those; here the
// test copies them itself.
V beside_deps(const std::string& module) {
  V out;
  auto [status, text] = run_status("readelf -d " + quote(module));
  REQUIRE(status == 0);
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    size_t open = line.find("Shared library: [");
    if (open == std::string::npos) continue;
    std::string name = line.substr(open + 17, line.find(']', open) - open - 17);
    if (fs::exists(kHostDir + "/" + name)) out.push_back(kHostDir + "/" + name);
  }
  return out;
}

void copy_in(const std::string& host_path, const fs::path& root) {
  const fs::path dest = root / host_path.substr(1);
  fs::create_directories(dest.parent_path());
  fs::copy_file(fs::canonical(host_path), dest, fs::copy_options::overwrite_existing);
}

const V kCharsets = {"ISO-8859-15", "latin1", "EUC-JP", "KOI8-R//TRANSLIT"};
// UTF-8 to and from each, and UTF-8 to itself (builtin).
std::string probe_args() {
  std::string args = "UTF-8 UTF-8";
  for (const auto& c : kCharsets) args += " " + quote(c) + " UTF-8 UTF-8 " + quote(c);
  return args;
}

}  // namespace

TEST_CASE("gconv: the real glibc converts with what was returned (GCONV_PATH)") {
  if (!have_host_gconv() || !dslim::test::have_tool("cc") || !dslim::test::have_tool("readelf")) {
    WARN("no cc, readelf or host gconv: left out");
    return;
  }
  dslim::test::TempDir tmp;
  std::ofstream(tmp.path() / "probe.c") << kProbe;
  dslim::test::run("cc -o " + quote((tmp.path() / "probe").string()) + " " +
                   quote((tmp.path() / "probe.c").string()));

  dslim::rootfs::DirRootFs root("/");
  auto config = read_gconv_config(root, kLibDir);
  REQUIRE(config);
  auto ms = config->modules_for(kCharsets);
  REQUIRE(ms.size() == kCharsets.size());
  V needed;
  for (auto& m : ms) {
    CHECK(m.missing.empty());
    CHECK(m.modules.size() == 1);
    needed.insert(needed.end(), m.modules.begin(), m.modules.end());
  }

  // GCONV_PATH=<dir>: glibc skips the cache and reads <dir>'s text files
  // first, then its own directory's. <dir>'s copy of every module line is
  // read first and wins, so each conversion loads <dir>/X.so: present only
  // if the reader returned it.
  const fs::path dir = tmp.path() / "gconv";
  fs::create_directories(dir);
  for (const auto& file : config->files()) {
    if (file.ends_with(".cache")) continue;
    const fs::path dest = dir / fs::path(file).lexically_relative(kHostDir);
    fs::create_directories(dest.parent_path());
    fs::copy_file(file, dest);
  }
  auto run_probe = [&]() {
    return run_status("GCONV_PATH=" + quote(dir.string()) + " " +
                      quote((tmp.path() / "probe").string()) + " " + probe_args());
  };
  auto [status_without, out_without] = run_probe();
  INFO(out_without);
  CHECK(status_without == 1);
  CHECK_THAT(out_without, Contains("ISO-8859-15 <- UTF-8: Invalid argument"));
  CHECK_THAT(out_without, Contains("UTF-8 <- UTF-8: ok"));  // builtin

  for (const auto& module : needed) {
    fs::copy_file(module, dir / fs::path(module).filename(), fs::copy_options::skip_existing);
    for (const auto& dep : beside_deps(module)) {
      fs::copy_file(dep, dir / fs::path(dep).filename(), fs::copy_options::skip_existing);
    }
  }
  auto [status, out] = run_probe();
  INFO(out);
  CHECK(status == 0);
  CHECK_THAT(out, Contains("EUC-JP <- UTF-8: ok"));
  CHECK_THAT(out, Contains("UTF-8 <- latin1: ok"));
}

TEST_CASE("gconv: the real glibc converts with what was returned (a root of its own, the cache)") {
#if !defined(__x86_64__)
  WARN("x86-64 paths: left out");
  return;
#endif
  if (!have_host_gconv() || !dslim::test::have_tool("cc") || !dslim::test::have_tool("readelf") ||
      !dslim::test::have_tool("unshare") || !fs::exists(kHostDir + "/gconv-modules.cache")) {
    if (std::getenv("CI")) FAIL("no host gconv-modules.cache (required under CI)");
    WARN("no cc, readelf, unshare or host gconv cache: left out");
    return;
  }
  if (run_status("unshare -r true").first != 0) {
    if (std::getenv("CI")) FAIL("no user namespaces (unshare -r), required under CI");
    WARN("no user namespaces here (unshare -r): left out");
    return;
  }
  dslim::test::TempDir tmp;
  std::ofstream(tmp.path() / "probe.c") << kProbe;
  const fs::path root_dir = tmp.path() / "root";
  fs::create_directories(root_dir);
  dslim::test::run("cc -o " + quote((root_dir / "probe").string()) + " " +
                   quote((tmp.path() / "probe.c").string()));
  // A root with only the loader, libc and the gconv files: no GCONV_PATH, so
  // glibc takes gconv-modules.cache, as in an image.
  copy_in("/lib64/ld-linux-x86-64.so.2", root_dir);
  copy_in(kLibDir + "/libc.so.6", root_dir);

  dslim::rootfs::DirRootFs host("/");
  auto config = read_gconv_config(host, kLibDir);
  REQUIRE(config);
  for (const auto& file : config->files()) copy_in(file, root_dir);

  const std::string cmd =
      "unshare -r chroot " + quote(root_dir.string()) + " /probe " + probe_args();
  auto [status_without, out_without] = run_status(cmd);
  INFO(out_without);
  CHECK(status_without == 1);
  CHECK_THAT(out_without, Contains("UTF-8 <- latin1: Invalid argument"));
  CHECK_THAT(out_without, Contains("UTF-8 <- UTF-8: ok"));

  for (const auto& m : config->modules_for(kCharsets)) {
    for (const auto& module : m.modules) {
      copy_in(module, root_dir);
      for (const auto& dep : beside_deps(module)) copy_in(dep, root_dir);
    }
  }
  // The image now; the loader finds libc in /usr/lib/x86_64-linux-gnu (a
  // default directory: no ld.so.cache here).
  auto [status, out] = run_status(cmd);
  INFO(out);
  CHECK(status == 0);
  CHECK_THAT(out, Contains("KOI8-R//TRANSLIT <- UTF-8: ok"));
  size_t gconv_files = 0;
  for (auto& e : fs::recursive_directory_iterator(root_dir / kHostDir.substr(1))) {
    gconv_files += e.is_regular_file();
  }
  // gconv-modules, one .conf, the cache, four modules and libJIS.so.
  CHECK(gconv_files == config->files().size() + 5);
}
