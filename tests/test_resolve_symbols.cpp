// The symbol and version checks over closures the resolver finds in roots
// the tests lay out from fixtures (fixtures/CMakeLists.txt: ver/*, rlib) and
// this machine's loader and libc; the real loader's verdict on the same
// layouts is in tests/e2e/binary_symbol_versions.sh.
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "dslim/error.hpp"
#include "dslim/symbol_check.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace dslim;
using namespace dslim::resolve;
using dslim::test::TempDir;

namespace {

const fs::path kFixtures = DSLIM_FIXTURE_DIR;

void put(const fs::path& root, const fs::path& from, const std::string& to) {
  const fs::path dest = root / to.substr(1);
  fs::create_directories(dest.parent_path());
  fs::copy_file(from, dest, fs::copy_options::overwrite_existing);
}

// This machine's loader and libc at their Debian paths (no merged /usr).
fs::path glibc_root(const TempDir& dir) {
  put(dir.path(), "/lib64/ld-linux-x86-64.so.2", "/lib64/ld-linux-x86-64.so.2");
  put(dir.path(), "/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6");
  return dir.path();
}

struct Checked {
  Graph graph;
  std::vector<SymbolProblem> problems;
};

// Resolves programs that live in the root and checks their symbols.
Checked check(const fs::path& root, std::vector<std::pair<std::string, Role>> programs) {
  rootfs::DirRootFs fs(root.string());
  std::vector<Program> list;
  for (const auto& [path, role] : programs) {
    list.push_back(program_from_root(fs, path));
    list.back().role = role;
  }
  Checked out;
  out.graph = Resolver(fs).resolve(list);
  GraphSymbols symbols;
  symbols.read(out.graph, fs);
  out.problems = check_symbols(out.graph, symbols);
  return out;
}

Checked check_app(const std::string& build, const std::string& app) {
  static TempDir dir;  // one root per test run is enough: each case lays its own app
  const fs::path root = glibc_root(dir);
  put(root, kFixtures / "ver/old/lib/libver.so.1", "/opt/ver/lib/libver.so.1");
  put(root, kFixtures / ("ver/" + build + "/bin/" + app), "/opt/ver/bin/" + app);
  return check(root, {{"/opt/ver/bin/" + app, Role::Entry}});
}

}  // namespace

TEST_CASE("a version the library lacks is an error naming all of it", "[symbols]") {
  const auto [graph, problems] = check_app("new", "app_ver_two");
  REQUIRE(graph.missing.empty());
  REQUIRE(problems.size() == 1);  // the version once, not again for its symbol
  const SymbolProblem& p = problems[0];
  CHECK(p.issue == SymbolIssue::MissingVersion);
  CHECK(p.error);
  CHECK(p.object == "/opt/ver/bin/app_ver_two");
  CHECK(p.version == "V_2");
  CHECK(p.symbol == "ver_two");
  CHECK(p.library == "libver.so.1");
  CHECK(p.provider == "/opt/ver/lib/libver.so.1");
  CHECK(p.provider_versions == std::vector<std::string>{"V_1"});
}

TEST_CASE("what the loader accepts raises nothing", "[symbols]") {
  CHECK(check_app("new", "app_ver_one").problems.empty());  // V_1 is there
  CHECK(check_app("maybe", "app_weak").problems.empty());   // a weak undefined symbol
}

TEST_CASE("a symbol no object defines is an error for the program", "[symbols]") {
  const auto versioned = check_app("maybe", "app_missing_ver_fn").problems;
  REQUIRE(versioned.size() == 1);
  CHECK(versioned[0].issue == SymbolIssue::MissingSymbol);
  CHECK(versioned[0].symbol == "ver_maybe");
  CHECK(versioned[0].version == "V_1");
  CHECK(versioned[0].library == "libver.so.1");
  CHECK(versioned[0].error);

  const auto plain = check_app("gone", "app_missing_fn").problems;
  REQUIRE(plain.size() == 1);
  CHECK(plain[0].issue == SymbolIssue::MissingSymbol);
  CHECK(plain[0].symbol == "ver_gone");
  CHECK(plain[0].version.empty());
  CHECK(plain[0].error);
  CHECK(std::find(plain[0].searched.begin(), plain[0].searched.end(), "/opt/ver/lib/libver.so.1") !=
        plain[0].searched.end());
}

TEST_CASE(
    "a symbol a library lacks is a warning under glibc, and no error when another object of "
    "the closure defines it",
    "[symbols]") {
  TempDir dir;
  const fs::path root = glibc_root(dir);
  // app_rpath needs liba (a_value), liba needs libb (b_value); this libb.so
  // is libx, which defines no b_value.
  put(root, kFixtures / "bin/app_rpath", "/opt/r/bin/app_rpath");
  put(root, kFixtures / "rlib/liba.so", "/opt/r/rlib/liba.so");
  put(root, kFixtures / "lib/libx.so.1.2.3", "/opt/r/rlib/libb.so");
  auto [graph, problems] = check(root, {{"/opt/r/bin/app_rpath", Role::Entry}});
  REQUIRE(graph.missing.empty());
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].object == "/opt/r/rlib/liba.so");
  CHECK(problems[0].symbol == "b_value");
  CHECK(!problems[0].error);

  // The real libb.so defines it.
  put(root, kFixtures / "rlib/libb.so", "/opt/r/rlib/libb.so");
  CHECK(check(root, {{"/opt/r/bin/app_rpath", Role::Entry}}).problems.empty());
}

TEST_CASE("a dlopen'ed object's symbols may come from the entry program's closure", "[symbols]") {
  TempDir dir;
  const fs::path root = glibc_root(dir);
  // The plugin (liba) finds a libb.so without b_value in the default
  // directory; the entry program's own closure has the real one, and at run
  // time the plugin's lookups search the program's objects first.
  put(root, kFixtures / "rlib/liba.so", "/opt/plugins/liba.so");
  put(root, kFixtures / "lib/libx.so.1.2.3", "/lib/x86_64-linux-gnu/libb.so");
  put(root, kFixtures / "bin/app_rpath", "/opt/r/bin/app_rpath");
  put(root, kFixtures / "rlib/liba.so", "/opt/r/rlib/liba.so");
  put(root, kFixtures / "rlib/libb.so", "/opt/r/rlib/libb.so");
  auto [graph, problems] = check(
      root, {{"/opt/r/bin/app_rpath", Role::Entry}, {"/opt/plugins/liba.so", Role::Dlopened}});
  REQUIRE(graph.missing.empty());
  CHECK(problems.empty());
  // Alone, the plugin's unmet import is a warning, never an error.
  auto alone = check(root, {{"/opt/plugins/liba.so", Role::Dlopened}});
  REQUIRE(alone.graph.missing.empty());
  REQUIRE(alone.problems.size() == 1);
  CHECK(alone.problems[0].symbol == "b_value");
  CHECK(!alone.problems[0].error);
}

TEST_CASE("a missing library is the problem reported, not its symbols", "[symbols]") {
  TempDir dir;
  const fs::path root = glibc_root(dir);
  put(root, kFixtures / "bin/app_rpath", "/opt/r/bin/app_rpath");  // no liba anywhere
  auto [graph, problems] = check(root, {{"/opt/r/bin/app_rpath", Role::Entry}});
  CHECK(graph.missing.size() == 1);
  CHECK(problems.empty());
}

TEST_CASE("musl binds every symbol at start: a library's missing symbol is an error", "[symbols]") {
  TempDir dir;
  // The stand-in libc lacks qsort_r.
  put(dir.path(), kFixtures / "musl/lib/libc_no_qsort_r.so", "/lib/ld-musl-x86_64.so.1");
  put(dir.path(), kFixtures / "musl/bin/musl_qsort_r", "/app");
  auto [graph, problems] = check(dir.path(), {{"/app", Role::Entry}});
  REQUIRE(graph.loader == LoaderKind::Musl);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].symbol == "qsort_r");
  CHECK(problems[0].version.empty());
  CHECK(problems[0].error);
}

TEST_CASE("this machine's programs raise nothing", "[symbols]") {
  rootfs::DirRootFs fs("/");
  for (const char* program : {"/usr/bin/ls", "/usr/bin/python3", "/usr/bin/cmake"}) {
    INFO(program);
    const Graph graph = Resolver(fs).resolve({program_from_root(fs, program)});
    GraphSymbols symbols;
    symbols.read(graph, fs);
    CHECK(check_symbols(graph, symbols).empty());
  }
}
