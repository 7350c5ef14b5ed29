// The resolver against real loaders' rules, on roots the tests build from the
// fixture programs (fixtures/CMakeLists.txt) and this machine's glibc and musl.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include <catch2/catch.hpp>

#include "dslim/error.hpp"
#include "dslim/loader_config.hpp"
#include "dslim/resolver.hpp"
#include "resolve/walk.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace dslim;
using namespace dslim::resolve;
using dslim::test::TempDir;

namespace {

const fs::path kFixtures = DSLIM_FIXTURE_DIR;
constexpr const char* kMultiarch = "/usr/lib/x86_64-linux-gnu";

void copy_into(const fs::path& root, const fs::path& from, const std::string& to) {
  fs::path dest = root / to.substr(1);
  fs::create_directories(dest.parent_path());
  fs::copy_file(from, dest, fs::copy_options::overwrite_existing);
}

void symlink_in(const fs::path& root, const std::string& target, const std::string& at) {
  fs::path link = root / at.substr(1);
  fs::create_directories(link.parent_path());
  fs::create_symlink(target, link);
}

void write_in(const fs::path& root, const std::string& at, const std::string& text) {
  fs::path file = root / at.substr(1);
  fs::create_directories(file.parent_path());
  std::ofstream(file) << text;
}

// A Debian-12-shaped root (merged /usr) holding this machine's loader and libc.
void make_glibc_root(const fs::path& root) {
  copy_into(root, std::string(kMultiarch) + "/libc.so.6", std::string(kMultiarch) + "/libc.so.6");
  copy_into(root, std::string(kMultiarch) + "/ld-linux-x86-64.so.2",
            std::string(kMultiarch) + "/ld-linux-x86-64.so.2");
  symlink_in(root, "usr/lib", "/lib");
  symlink_in(root, "usr/lib64", "/lib64");
  symlink_in(root, "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", "/usr/lib64/ld-linux-x86-64.so.2");
}

// The fixture libx chain: libx.so -> libx.so.1 -> libx.so.1.2.3, under `dir`.
void install_libx(const fs::path& root, const std::string& dir) {
  copy_into(root, kFixtures / "lib/libx.so.1.2.3", dir + "/libx.so.1.2.3");
  symlink_in(root, "libx.so.1.2.3", dir + "/libx.so.1");
  symlink_in(root, "libx.so.1", dir + "/libx.so");
}

Program root_program(const rootfs::RootFs& fs, const fs::path& root, const fs::path& host_app,
                     const std::string& at) {
  copy_into(root, host_app, at);
  return program_from_root(fs, at);
}

const Node* node_named(const Graph& g, const std::string& name) {
  for (const auto& n : g.nodes) {
    if (n.name == name) return &n;
  }
  return nullptr;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Real files the real loader maps for `app` (ld.so --list), less the vDSO.
std::set<std::string> real_loader_files(const std::string& app) {
  std::set<std::string> files;
  std::string out = test::run("/lib64/ld-linux-x86-64.so.2 --list " + app + " 2>&1 || true");
  size_t pos = 0;
  while (pos < out.size()) {
    size_t end = out.find('\n', pos);
    std::string line = out.substr(pos, end - pos);
    pos = end == std::string::npos ? out.size() : end + 1;
    std::string path;
    if (auto arrow = line.find("=> "); arrow != std::string::npos) {
      path = line.substr(arrow + 3, line.find(" (", arrow) - arrow - 3);
    } else if (auto slash = line.find('/'); slash != std::string::npos) {
      path = line.substr(slash, line.find(" (", slash) - slash);
    }
    if (!path.empty() && path.front() == '/') files.insert(fs::canonical(path).string());
  }
  return files;
}

std::set<std::string> real_files(const Graph& g) {
  std::set<std::string> files;
  for (const auto& n : g.nodes) {
    if (n.found_by != FoundBy::Program) files.insert(n.real_path);
  }
  return files;
}

}  // namespace

TEST_CASE("RUNPATH $ORIGIN finds the program's own library, with its symlink chain") {
  rootfs::DirRootFs host("/");
  std::string app = fs::canonical(kFixtures / "bin/app_runpath").string();
  auto program = program_from_host(app, fs::path(app).parent_path().string());
  Graph g = Resolver(host).resolve({program});
  REQUIRE(g.missing.empty());
  REQUIRE(g.loader == LoaderKind::Glibc);
  const Node* x = node_named(g, "libx.so.1");
  REQUIRE(x);
  CHECK(x->found_by == FoundBy::Runpath);
  std::string lib = fs::canonical(kFixtures / "lib").string();
  CHECK(x->path == lib + "/libx.so.1");
  CHECK(x->real_path == lib + "/libx.so.1.2.3");
  CHECK(contains(x->links, lib + "/libx.so.1"));
  auto files = g.files();
  CHECK(contains(files, lib + "/libx.so.1"));
  CHECK(contains(files, lib + "/libx.so.1.2.3"));
  CHECK(!contains(files, lib + "/libx.so"));  // the dev link is not needed at run time
  CHECK(contains(files, "/lib64"));           // this machine's merged /usr: a link to usr/lib64
  CHECK(contains(files, "/usr/lib64/ld-linux-x86-64.so.2"));
  CHECK(!contains(files, "/lib64/ld-linux-x86-64.so.2"));  // not physical
  CHECK(real_files(g) == real_loader_files(app));
}

TEST_CASE("DT_RPATH is inherited down the loader chain") {
  rootfs::DirRootFs host("/");
  std::string app = fs::canonical(kFixtures / "bin/app_rpath").string();
  Graph g = Resolver(host).resolve({program_from_host(app, fs::path(app).parent_path().string())});
  REQUIRE(g.missing.empty());
  const Node* b = node_named(g, "libb.so");
  REQUIRE(b);
  CHECK(b->found_by == FoundBy::Rpath);  // liba has no RPATH: the app's is used
  CHECK(real_files(g) == real_loader_files(app));
}

TEST_CASE("DT_RUNPATH is not inherited: glibc reports the library missing") {
  rootfs::DirRootFs host("/");
  std::string app = fs::canonical(kFixtures / "bin/app_runpath_a").string();
  Graph g = Resolver(host).resolve({program_from_host(app, fs::path(app).parent_path().string())});
  REQUIRE(g.missing.size() == 1);
  CHECK(g.missing[0].name == "libb.so");
  CHECK(g.missing[0].needed_by == fs::canonical(kFixtures / "rlib").string() + "/liba.so");
  CHECK(contains(g.missing[0].searched, "/etc/ld.so.cache"));
  CHECK(contains(g.missing[0].searched, "/lib/x86_64-linux-gnu"));
  // and the real loader agrees
  CHECK_THROWS(test::run(app + " 2>/dev/null"));
}

TEST_CASE("a root of its own: default dirs, SONAME reuse of the interpreter, merged /usr links") {
  TempDir tmp;
  make_glibc_root(tmp.path());
  install_libx(tmp.path(), "/usr/lib/x86_64-linux-gnu");
  rootfs::DirRootFs fs(tmp.str());
  auto program = root_program(fs, tmp.path(), kFixtures / "bin/app_runpath", "/app/app");
  Graph g = Resolver(fs).resolve({program});
  REQUIRE(g.missing.empty());
  const Node* x = node_named(g, "libx.so.1");
  REQUIRE(x);
  CHECK(x->found_by == FoundBy::DefaultDir);
  CHECK(x->path == "/lib/x86_64-linux-gnu/libx.so.1");
  CHECK(x->real_path == "/usr/lib/x86_64-linux-gnu/libx.so.1.2.3");
  // libc.so.6 needs ld-linux-x86-64.so.2: that is the interpreter, by SONAME
  size_t interp_count = 0;
  for (const auto& n : g.nodes) interp_count += n.real_path.ends_with("ld-linux-x86-64.so.2");
  CHECK(interp_count == 1);
  auto files = g.files();
  for (const char* want :
       {"/lib", "/lib64", "/usr/lib64/ld-linux-x86-64.so.2",
        "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", "/usr/lib/x86_64-linux-gnu/libx.so.1",
        "/usr/lib/x86_64-linux-gnu/libc.so.6", "/app/app"}) {
    INFO(want);
    CHECK(contains(files, want));
  }
}

TEST_CASE("a candidate of the wrong ELF class is skipped and the search goes on") {
  TempDir tmp;
  make_glibc_root(tmp.path());
  install_libx(tmp.path(), "/opt/lib");
  copy_into(tmp.path(), kFixtures / "lib/libx.so.1.2.3", "/opt/decoy/libx.so.1");
  {
    std::fstream f(tmp.path() / "opt/decoy/libx.so.1",
                   std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4);
    f.put(1);  // ELFCLASS32
  }
  rootfs::DirRootFs fs(tmp.str());
  auto program = root_program(fs, tmp.path(), kFixtures / "bin/app_runpath", "/app/app");
  Options options;
  options.ld_library_path = "/opt/decoy:/opt/lib";
  Graph g = Resolver(fs, options).resolve({program});
  REQUIRE(g.missing.empty());
  const Node* x = node_named(g, "libx.so.1");
  REQUIRE(x);
  CHECK(x->found_by == FoundBy::LdLibraryPath);
  CHECK(x->path == "/opt/lib/libx.so.1");
  CHECK(!contains(g.files(), "/opt/decoy/libx.so.1"));
}

TEST_CASE("glibc-hwcaps variants are all taken, so the image runs on any CPU") {
  TempDir tmp;
  make_glibc_root(tmp.path());
  install_libx(tmp.path(), "/usr/lib/x86_64-linux-gnu");
  copy_into(tmp.path(), kFixtures / "lib/libx.so.1.2.3",
            "/usr/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v2/libx.so.1");
  rootfs::DirRootFs fs(tmp.str());
  auto program = root_program(fs, tmp.path(), kFixtures / "bin/app_runpath", "/app/app");
  Graph g = Resolver(fs).resolve({program});
  const Node* x = node_named(g, "libx.so.1");
  REQUIRE(x);
  CHECK(x->path == "/lib/x86_64-linux-gnu/libx.so.1");
  CHECK(contains(g.files(), "/usr/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v2/libx.so.1"));
}

TEST_CASE("/etc/ld.so.cache made by the real ldconfig is used - without it a hint says so") {
  TempDir tmp;
  make_glibc_root(tmp.path());
  install_libx(tmp.path(), "/opt/lib");
  write_in(tmp.path(), "/etc/ld.so.conf", "include /etc/ld.so.conf.d/*.conf\n");
  write_in(tmp.path(), "/etc/ld.so.conf.d/opt.conf", "# fixture\n/opt/lib\n");
  rootfs::DirRootFs fs(tmp.str());
  auto program = root_program(fs, tmp.path(), kFixtures / "bin/app_runpath", "/app/app");

  Graph without = Resolver(fs).resolve({program});
  REQUIRE(without.missing.size() == 1);
  CHECK(without.missing[0].hint.find("ldconfig") != std::string::npos);

  test::run("ldconfig -r " + tmp.str() + " 2>&1");
  Graph with = Resolver(fs).resolve({program});
  REQUIRE(with.missing.empty());
  const Node* x = node_named(with, "libx.so.1");
  REQUIRE(x);
  CHECK(x->found_by == FoundBy::LdCache);
  CHECK(x->path == "/opt/lib/libx.so.1");
}

TEST_CASE("a symlink pointing out of the root stays inside it") {
  TempDir tmp;
  make_glibc_root(tmp.path());
  fs::path outside = tmp.path().parent_path() / (tmp.path().filename().string() + "-outside");
  install_libx(outside, "/lib");  // a libx the root must never reach
  symlink_in(tmp.path(), "../../../../../../" + outside.string().substr(1) + "/lib/libx.so.1",
             "/usr/lib/x86_64-linux-gnu/libx.so.1");
  rootfs::DirRootFs fs(tmp.str());
  auto program = root_program(fs, tmp.path(), kFixtures / "bin/app_runpath", "/app/app");
  Graph g = Resolver(fs).resolve({program});
  fs::remove_all(outside);
  REQUIRE(g.missing.size() == 1);
  CHECK(g.missing[0].name == "libx.so.1");
}

TEST_CASE("DF_1_NODEFLIB skips the cache and default directories") {
  TempDir tmp;
  make_glibc_root(tmp.path());
  install_libx(tmp.path(), "/usr/lib/x86_64-linux-gnu");
  test::run("cc -o " + tmp.str() + "/app_nodeflib " + DSLIM_SOURCE_DIR +
            "/fixtures/src/app_x.c -L" + (kFixtures / "lib").string() + " -lx -Wl,-z,nodefaultlib");
  rootfs::DirRootFs fs(tmp.str());
  auto program = program_from_root(fs, "/app_nodeflib");
  REQUIRE(program.info.nodeflib());
  Graph g = Resolver(fs).resolve({program});
  std::set<std::string> missing;
  for (const auto& m : g.missing) missing.insert(m.name);
  CHECK(missing == std::set<std::string>{"libc.so.6", "libx.so.1"});
  Options options;
  options.ld_library_path = "/usr/lib/x86_64-linux-gnu";
  CHECK(Resolver(fs, options).resolve({program}).missing.empty());
}

TEST_CASE("/etc/ld.so.preload adds libraries before the program's own") {
  TempDir tmp;
  make_glibc_root(tmp.path());
  install_libx(tmp.path(), "/usr/lib/x86_64-linux-gnu");
  write_in(tmp.path(), "/etc/ld.so.preload", "libx.so.1 # comment\n/nonexistent.so\n");
  rootfs::DirRootFs fs(tmp.str());
  auto dyn = root_program(fs, tmp.path(), kFixtures / "bin/app_rpath", "/app/app");
  Graph g = Resolver(fs).resolve({dyn});
  const Node* x = node_named(g, "libx.so.1");
  REQUIRE(x);
  CHECK(x->found_by == FoundBy::Preload);
  CHECK(g.warnings.size() == 1);
}

TEST_CASE("dynamic string tokens") {
  std::string lib = "lib/x86_64-linux-gnu", platform = "x86_64";
  CHECK(expand_tokens("$ORIGIN/../lib", "/app") == "/app/../lib");
  CHECK(expand_tokens("${ORIGIN}/x:$ORIGINAL", "/o") == "/o/x:$ORIGINAL");
  CHECK(expand_tokens("/usr/$LIB/${PLATFORM}", "/", &lib, &platform) ==
        "/usr/lib/x86_64-linux-gnu/x86_64");
  CHECK(expand_tokens("/usr/$LIB", "/") == "/usr/$LIB");  // musl knows only $ORIGIN
  CHECK(search_path_dirs(split_rpath("$ORIGIN/../lib::rel"), "/app/bin") ==
        std::vector<std::string>{"/app/lib", "/", "/rel"});
}

TEST_CASE("musl: loader names, default path, path file, RPATH") {
  TempDir tmp;
  copy_into(tmp.path(), fs::canonical("/lib/ld-musl-x86_64.so.1"), "/lib/ld-musl-x86_64.so.1");
  copy_into(tmp.path(), kFixtures / "lib/libx_musl.so", "/usr/lib/libx_musl.so");
  rootfs::DirRootFs fs(tmp.str());
  auto program = root_program(fs, tmp.path(), kFixtures / "bin/hello_musl", "/app/hello");
  REQUIRE(program.info.interpreter == "/lib/ld-musl-x86_64.so.1");

  Graph g = Resolver(fs).resolve({program});
  REQUIRE(g.loader == LoaderKind::Musl);
  REQUIRE(g.missing.empty());
  const Node* x = node_named(g, "libx_musl.so");
  REQUIRE(x);
  CHECK(x->found_by == FoundBy::DefaultDir);
  // libc.so is the loader itself: no file of that name is needed
  CHECK(g.files() == std::vector<std::string>{"/app/hello", "/lib/ld-musl-x86_64.so.1",
                                              "/usr/lib/libx_musl.so"});

  fs::create_directories(tmp.path() / "opt/musl");
  fs::rename(tmp.path() / "usr/lib/libx_musl.so", tmp.path() / "opt/musl/libx_musl.so");
  CHECK(Resolver(fs).resolve({program}).missing.size() == 1);
  write_in(tmp.path(), "/etc/ld-musl-x86_64.path", "/usr/lib\n/opt/musl\n");
  Graph with_path = Resolver(fs).resolve({program});
  REQUIRE(with_path.missing.empty());
  CHECK(node_named(with_path, "libx_musl.so")->found_by == FoundBy::MuslPathFile);
}

TEST_CASE("programs of several architectures are refused") {
  TempDir tmp;
  copy_into(tmp.path(), kFixtures / "bin/hello_static", "/a");
  copy_into(tmp.path(), kFixtures / "bin/hello_static", "/b");
  {
    std::fstream f(tmp.path() / "b", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(18);
    f.put(static_cast<char>(183));  // EM_AARCH64
  }
  rootfs::DirRootFs fs(tmp.str());
  auto a = program_from_root(fs, "/a");
  auto b = program_from_root(fs, "/b");
  CHECK_THROWS_AS(Resolver(fs).resolve({a, b}), Error);
}

TEST_CASE("several programs share one graph - a static program needs nothing") {
  TempDir tmp;
  make_glibc_root(tmp.path());
  install_libx(tmp.path(), "/usr/lib/x86_64-linux-gnu");
  rootfs::DirRootFs fs(tmp.str());
  auto a = root_program(fs, tmp.path(), kFixtures / "bin/app_runpath", "/app/a");
  auto s = root_program(fs, tmp.path(), kFixtures / "bin/hello_static", "/app/s");
  Graph g = Resolver(fs).resolve({a, s, a});
  CHECK(g.programs.size() == 3);
  std::set<std::string> reals;
  for (const auto& n : g.nodes) {
    if (n.found_by != FoundBy::Program) CHECK(reals.insert(n.real_path).second);
  }
  Graph only_static = Resolver(fs).resolve({s});
  CHECK(only_static.loader == LoaderKind::Static);
  CHECK(only_static.files() == std::vector<std::string>{"/app/s"});
}
