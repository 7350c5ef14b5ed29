// Tests for src/rootfs: normalize, resolve, glob, read_text, and both backends.
// Behavioural cases run against MemRootFs and DirRootFs (a real temp directory)
// through one TEMPLATE_TEST_CASE, so the two backends are held to one contract.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dslim/error.hpp"
#include "dslim/rootfs.hpp"

namespace fs = std::filesystem;
using dslim::Error;
using namespace dslim::rootfs;
using Strings = std::vector<std::string>;

namespace {

// Builds a tree in memory. "Outside" files have no meaning here: a MemRootFs
// has no outside, which is the point of comparing it with DirRootFs.
struct MemTree {
  MemRootFs m;
  void file(const std::string& p, const std::string& c) { m.add_file(p, c); }
  void dir(const std::string& p) { m.add_dir(p); }
  void link(const std::string& p, const std::string& t) { m.add_symlink(p, t); }
  void outside(const std::string&, const std::string&) {}
  void big_file(const std::string& p, uint64_t size) { m.add_file(p, std::string(size, 'x')); }
  RootFs& fs() { return m; }
};

// Builds the same tree in TMP/root on disk; "outside" files go to TMP, the
// root's parent, which is where a ".." escape from the root would land.
struct DirTree {
  fs::path tmp;
  fs::path root;
  std::unique_ptr<DirRootFs> d;
  DirTree() {
    std::string templ = (fs::temp_directory_path() / "dslim-rootfs-XXXXXX").string();
    REQUIRE(::mkdtemp(templ.data()) != nullptr);
    tmp = templ;
    root = tmp / "root";
    fs::create_directories(root);
    d = std::make_unique<DirRootFs>(root.string());
  }
  ~DirTree() {
    std::error_code ec;
    fs::remove_all(tmp, ec);
  }
  fs::path host(const std::string& p) const { return root / p.substr(1); }
  static void write(const fs::path& h, const std::string& c) {
    fs::create_directories(h.parent_path());
    std::ofstream(h, std::ios::binary) << c;
  }
  void file(const std::string& p, const std::string& c) { write(host(p), c); }
  void dir(const std::string& p) { fs::create_directories(host(p)); }
  void link(const std::string& p, const std::string& t) {
    fs::create_directories(host(p).parent_path());
    fs::create_symlink(t, host(p));
  }
  void outside(const std::string& rel, const std::string& c) { write(tmp / rel, c); }
  void big_file(const std::string& p, uint64_t size) {
    write(host(p), "");
    fs::resize_file(host(p), size);  // sparse: quick
  }
  RootFs& fs() { return *d; }
};

std::string path_of(const RootFs& fs, const std::string& p, bool follow_last = true) {
  auto r = resolve(fs, p, follow_last);
  return r ? r->path : "<absent>";
}

}  // namespace

TEST_CASE("normalize", "[rootfs]") {
  CHECK(normalize("/a/./b//../c/") == "/a/c");
  CHECK(normalize("") == "/");
  CHECK(normalize("/") == "/");
  CHECK(normalize("//") == "/");
  CHECK(normalize("/..") == "/");
  CHECK(normalize("/../../etc/passwd") == "/etc/passwd");
  CHECK(normalize("/a/b/../../../c") == "/c");
  CHECK(normalize("a/b") == "/a/b");
  CHECK(normalize("/a/b/.") == "/a/b");
  CHECK(normalize("/a/.../b") == "/a/.../b");
  CHECK(normalize("/a/..b/c") == "/a/..b/c");
}

TEMPLATE_TEST_CASE("resolve plain paths", "[rootfs]", MemTree, DirTree) {
  TestType t;
  t.file("/etc/passwd", "root:x:0:0\n");
  t.dir("/var/empty");
  const RootFs& fs = t.fs();

  auto r = resolve(fs, "/etc/passwd");
  REQUIRE(r);
  CHECK(r->path == "/etc/passwd");
  CHECK(r->stat.type == FileType::Regular);
  CHECK(r->stat.size == 11);
  CHECK(r->links.empty());
  CHECK(path_of(fs, "//etc/./passwd") == "/etc/passwd");
  CHECK(path_of(fs, "/var/empty/") == "/var/empty");
  CHECK(resolve(fs, "/var/empty")->stat.type == FileType::Directory);
  CHECK(path_of(fs, "/") == "/");
  CHECK(path_of(fs, "/..") == "/");
  CHECK(path_of(fs, "/../../etc/passwd") == "/etc/passwd");
  CHECK_FALSE(resolve(fs, "/etc/shadow"));
  CHECK_FALSE(resolve(fs, "/nope/passwd"));
}

TEMPLATE_TEST_CASE("resolve follows relative, absolute and chained links", "[rootfs]", MemTree,
                   DirTree) {
  TestType t;
  t.file("/usr/lib/libz.so.1.2.13", "ELF");
  t.link("/usr/lib/libz.so.1", "libz.so.1.2.13");    // relative
  t.link("/usr/lib/libz.so", "/usr/lib/libz.so.1");  // absolute
  t.link("/usr/lib/a", "b");                         // chain a -> b -> c
  t.link("/usr/lib/b", "./c");
  t.link("/usr/lib/c", "../lib/libz.so.1.2.13");
  const RootFs& fs = t.fs();

  auto r = resolve(fs, "/usr/lib/libz.so.1");
  REQUIRE(r);
  CHECK(r->path == "/usr/lib/libz.so.1.2.13");
  CHECK(r->stat.type == FileType::Regular);
  CHECK(r->links == Strings{"/usr/lib/libz.so.1"});

  r = resolve(fs, "/usr/lib/libz.so");
  REQUIRE(r);
  CHECK(r->path == "/usr/lib/libz.so.1.2.13");
  CHECK(r->links == Strings{"/usr/lib/libz.so", "/usr/lib/libz.so.1"});

  r = resolve(fs, "/usr/lib/a");
  REQUIRE(r);
  CHECK(r->path == "/usr/lib/libz.so.1.2.13");
  CHECK(r->links == Strings{"/usr/lib/a", "/usr/lib/b", "/usr/lib/c"});
}

TEMPLATE_TEST_CASE("resolve: directory symlinks in the middle (merged /usr)", "[rootfs]", MemTree,
                   DirTree) {
  TestType t;
  t.file("/usr/lib/x86_64-linux-gnu/libc.so.6", "ELF");
  t.link("/usr/lib/x86_64-linux-gnu/libz.so.1", "libz.so.1.2.13");
  t.file("/usr/lib/x86_64-linux-gnu/libz.so.1.2.13", "ELF");
  t.file("/usr/bin/sh", "ELF");
  t.link("/lib", "usr/lib");
  t.link("/lib64", "/usr/lib64");
  t.file("/usr/lib64/ld-linux-x86-64.so.2", "ELF");
  const RootFs& fs = t.fs();

  auto r = resolve(fs, "/lib/x86_64-linux-gnu/libc.so.6");
  REQUIRE(r);
  CHECK(r->path == "/usr/lib/x86_64-linux-gnu/libc.so.6");
  CHECK(r->links == Strings{"/lib"});

  r = resolve(fs, "/lib/x86_64-linux-gnu/libz.so.1");
  REQUIRE(r);
  CHECK(r->path == "/usr/lib/x86_64-linux-gnu/libz.so.1.2.13");
  CHECK(r->links == Strings{"/lib", "/usr/lib/x86_64-linux-gnu/libz.so.1"});

  CHECK(path_of(fs, "/lib64/ld-linux-x86-64.so.2") == "/usr/lib64/ld-linux-x86-64.so.2");
  CHECK(path_of(fs, "/lib") == "/usr/lib");

  // ".." after a followed directory link is taken on the physical path, as the
  // kernel (and so the loader) does: /lib/.. is /usr, not /.
  CHECK(path_of(fs, "/lib/../bin/sh") == "/usr/bin/sh");
}

TEMPLATE_TEST_CASE("resolve: follow_last=false", "[rootfs]", MemTree, DirTree) {
  TestType t;
  t.file("/usr/lib/libz.so.1.2.13", "ELF");
  t.link("/usr/lib/libz.so.1", "libz.so.1.2.13");
  t.link("/lib", "usr/lib");
  t.link("/dangling", "/nowhere");
  const RootFs& fs = t.fs();

  auto r = resolve(fs, "/lib/libz.so.1", false);
  REQUIRE(r);
  CHECK(r->path == "/usr/lib/libz.so.1");
  CHECK(r->stat.type == FileType::Symlink);
  CHECK(r->links == Strings{"/lib"});

  r = resolve(fs, "/lib", false);
  REQUIRE(r);
  CHECK(r->path == "/lib");
  CHECK(r->stat.type == FileType::Symlink);
  CHECK(r->links.empty());

  CHECK(path_of(fs, "/dangling", false) == "/dangling");
  CHECK_FALSE(resolve(fs, "/dangling", true));
  CHECK(path_of(fs, "/lib/", false) == "/lib");  // a trailing slash is dropped first
}

TEMPLATE_TEST_CASE("resolve: a file in the middle is ENOTDIR", "[rootfs]", MemTree, DirTree) {
  TestType t;
  t.file("/etc/passwd", "x");
  t.link("/pw", "etc/passwd");
  const RootFs& fs = t.fs();
  CHECK_FALSE(resolve(fs, "/etc/passwd/x"));
  CHECK_FALSE(resolve(fs, "/etc/passwd/.."));  // lexically "/etc", but not so for the kernel
  CHECK_FALSE(resolve(fs, "/pw/x"));
  CHECK(path_of(fs, "/pw") == "/etc/passwd");
}

TEMPLATE_TEST_CASE("resolve: links never leave the root", "[rootfs]", MemTree, DirTree) {
  TestType t;
  // Host files where an escape would land: TMP is the root's parent.
  t.outside("etc/passwd", "HOST\n");
  t.outside("secret", "HOST\n");
  t.file("/etc/passwd", "ROOT\n");
  t.link("/lib", "/../../../etc");  // absolute with ".." above /
  t.link("/up", "../../..");        // relative, climbing out
  t.link("/usr/share/esc", "../../../../etc/passwd");
  t.link("/usr/share/sec", "../../../secret");
  t.link("/usr/share/sec2", "/../secret");
  const RootFs& fs = t.fs();

  auto r = resolve(fs, "/lib/passwd");
  REQUIRE(r);
  CHECK(r->path == "/etc/passwd");
  CHECK(read_text(fs, "/lib/passwd") == "ROOT\n");

  CHECK(path_of(fs, "/up") == "/");
  CHECK(path_of(fs, "/up/etc/passwd") == "/etc/passwd");
  CHECK(read_text(fs, "/up/etc/passwd") == "ROOT\n");
  CHECK(path_of(fs, "/usr/share/esc") == "/etc/passwd");
  CHECK(read_text(fs, "/usr/share/esc") == "ROOT\n");
  CHECK(path_of(fs, "/up/../../etc/passwd") == "/etc/passwd");

  // TMP/secret exists on the host but not in the root: absent, never the host's.
  CHECK_FALSE(resolve(fs, "/usr/share/sec"));
  CHECK_FALSE(resolve(fs, "/usr/share/sec2"));
  CHECK(read_text(fs, "/usr/share/sec") == std::nullopt);
  CHECK(glob(fs, "/up/*") == Strings{"/up/etc", "/up/lib", "/up/up", "/up/usr"});
}

TEMPLATE_TEST_CASE("resolve: an absolute link to /etc/passwd stays in the root", "[rootfs]",
                   MemTree, DirTree) {
  TestType t;
  t.outside("etc/passwd", "HOST\n");  // and the machine's own /etc/passwd exists too
  t.link("/app/passwd", "/etc/passwd");
  t.link("/app/passwd2", "../../../../../../../../etc/passwd");
  const RootFs& fs = t.fs();
  CHECK_FALSE(resolve(fs, "/app/passwd"));
  CHECK_FALSE(resolve(fs, "/app/passwd2"));
  CHECK(read_text(fs, "/app/passwd") == std::nullopt);

  t.file("/etc/passwd", "ROOT\n");
  auto r = resolve(fs, "/app/passwd");
  REQUIRE(r);
  CHECK(r->path == "/etc/passwd");
  CHECK(r->links == Strings{"/app/passwd"});
  CHECK(read_text(fs, "/app/passwd") == "ROOT\n");
  CHECK(read_text(fs, "/app/passwd2") == "ROOT\n");
}

TEMPLATE_TEST_CASE("resolve: loops and long chains fail with a clear error", "[rootfs]", MemTree,
                   DirTree) {
  TestType t;
  t.link("/a", "b");
  t.link("/b", "/a");
  t.link("/self", "self");
  t.link("/d/loop", "../d/loop/x");  // a loop through a directory component
  t.file("/target", "T");
  // A chain of exactly kMaxSymlinkHops links resolves; one more does not.
  for (int i = 0; i < kMaxSymlinkHops; ++i) {
    t.link("/ok" + std::to_string(i),
           i + 1 < kMaxSymlinkHops ? "ok" + std::to_string(i + 1) : "target");
  }
  t.link("/over", "ok0");
  for (int i = 0; i < 1000; ++i) {
    t.link("/deep/l" + std::to_string(i), i + 1 < 1000 ? "l" + std::to_string(i + 1) : "/target");
  }
  const RootFs& fs = t.fs();
  const std::string desc = fs.describe();

  auto r = resolve(fs, "/ok0");
  REQUIRE(r);
  CHECK(r->path == "/target");
  CHECK(r->links.size() == static_cast<size_t>(kMaxSymlinkHops));
  CHECK(r->links.front() == "/ok0");
  CHECK(r->links.back() == "/ok" + std::to_string(kMaxSymlinkHops - 1));

  using Catch::Matchers::Contains;
  CHECK_THROWS_WITH(resolve(fs, "/a"),
                    Contains("/a: too many levels of symbolic links in " + desc));
  CHECK_THROWS_AS(resolve(fs, "/a/x"), Error);
  CHECK_THROWS_WITH(resolve(fs, "/self"), Contains("too many levels of symbolic links"));
  CHECK_THROWS_AS(resolve(fs, "/d/loop"), Error);
  CHECK_THROWS_AS(resolve(fs, "/over"), Error);
  CHECK_THROWS_WITH(resolve(fs, "/deep/l0"),
                    Contains("/deep/l0: too many levels of symbolic links in " + desc));
  CHECK_THROWS_AS(read_text(fs, "/self"), Error);
  CHECK_THROWS_AS(glob(fs, "/a/*"), Error);

  // Not followed as the last component: no error, the link itself.
  CHECK(path_of(fs, "/self", false) == "/self");
  CHECK(path_of(fs, "/deep/l0", false) == "/deep/l0");
}

TEST_CASE("resolve: a loop is caught when the walk repeats itself, not 40 hops on", "[rootfs]") {
  struct Counting : MemRootFs {
    mutable int reads = 0;
    std::string readlink(const std::string& p) const override {
      ++reads;
      return MemRootFs::readlink(p);
    }
  } fs;
  fs.add_symlink("/self", "self");
  fs.add_symlink("/a", "b");
  fs.add_symlink("/b", "/a");
  fs.add_symlink("/d/up", "../d/up");
  fs.add_symlink("/grow", "grow/x");  // never repeats: components pile up
  fs.add_symlink("/l", ".");
  fs.add_symlink("/s", "x");
  fs.add_file("/x/f", "");
  fs.add_file("/target", "");
  for (const char* loop : {"/self", "/a/x", "/d/up"}) {
    fs.reads = 0;
    CHECK_THROWS_WITH(resolve(fs, loop),
                      Catch::Matchers::Contains("too many levels of symbolic links"));
    CHECK(fs.reads <= 3);
  }
  fs.reads = 0;
  CHECK_THROWS_AS(resolve(fs, "/grow"), Error);
  CHECK(fs.reads == kMaxSymlinkHops);
  // The same link twice with different components left behind is no loop.
  CHECK(path_of(fs, "/l/l/l/target") == "/target");
  CHECK(path_of(fs, "/s/../s/f") == "/x/f");
  CHECK(path_of(fs, "/s/../l/s/../s/f") == "/x/f");
}

TEMPLATE_TEST_CASE("glob", "[rootfs]", MemTree, DirTree) {
  TestType t;
  t.file("/etc/ld.so.conf", "include /etc/ld.so.conf.d/*.conf\n");
  t.file("/etc/ld.so.conf.d/b.conf", "/opt/b\n");
  t.file("/etc/ld.so.conf.d/a.conf", "/opt/a\n");
  t.file("/etc/ld.so.conf.d/c.txt", "");
  t.file("/etc/ld.so.conf.d/.hidden.conf", "");
  t.file("/etc/ld.so.conf.d/ab.conf", "");
  t.link("/etc/ld.so.conf.d/z.conf", "/nowhere");  // dangling: still listed, as glob(3) does
  t.link("/conf", "etc/ld.so.conf.d");
  t.file("/d1/x", "");
  t.file("/d2/x", "");
  t.file("/d3/y", "");
  t.file("/dfile", "");
  const RootFs& fs = t.fs();

  const std::string d = "/etc/ld.so.conf.d/";
  CHECK(glob(fs, d + "*.conf") == Strings{d + "a.conf", d + "ab.conf", d + "b.conf", d + "z.conf"});
  CHECK(glob(fs, d + "?.conf") == Strings{d + "a.conf", d + "b.conf", d + "z.conf"});
  CHECK(glob(fs, d + "[ab].conf") == Strings{d + "a.conf", d + "b.conf"});
  CHECK(glob(fs, d + "[!a].*") == Strings{d + "b.conf", d + "c.txt", d + "z.conf"});
  CHECK(glob(fs, d + ".*.conf") == Strings{d + ".hidden.conf"});
  CHECK(glob(fs, d + "a.conf") == Strings{d + "a.conf"});
  CHECK(glob(fs, d + "none.conf").empty());
  CHECK(glob(fs, d + "*.none").empty());
  // Logical, pattern-shaped results through a directory link.
  CHECK(glob(fs, "/conf/[ab].conf") == Strings{"/conf/a.conf", "/conf/b.conf"});
  // Wildcards in a middle component; a file matched there is skipped.
  CHECK(glob(fs, "/d*/x") == Strings{"/d1/x", "/d2/x"});
  CHECK(glob(fs, "/e*/ld.so.conf.d/a.conf") == Strings{"/etc/ld.so.conf.d/a.conf"});
  CHECK(glob(fs, "/*/*/b.conf") == Strings{"/etc/ld.so.conf.d/b.conf"});
  CHECK(glob(fs, "/nope/*").empty());
  CHECK(glob(fs, "/etc/ld.so.conf/*").empty());
  CHECK_THROWS_AS(glob(fs, "relative/*"), Error);

  // A budget of directory entries to read, taken off as they are read.
  uint64_t left = 100;
  CHECK(glob(fs, d + "*.conf", &left).size() == 4);
  CHECK(left == 94);  // the six entries of ld.so.conf.d
  left = 5;
  CHECK_THROWS_AS(glob(fs, d + "*.conf", &left), GlobLimitError);
}

TEST_CASE("glob: a path of PATH_MAX or more matches nothing, as the kernel refuses it",
          "[rootfs]") {
  MemRootFs fs;
  const std::string dir = "/" + std::string(4000, 'd');
  fs.add_file(dir + "/" + std::string(93, 'f'), "");  // 4095 characters
  fs.add_file(dir + "/" + std::string(94, 'g'), "");  // 4096
  CHECK(glob(fs, "/*/*") == Strings{dir + "/" + std::string(93, 'f')});
  // A million literal components: dropped once too long, not copied on and on.
  std::string pattern = "/*";
  for (int i = 0; i < 1'000'000; ++i) pattern += "/x";
  CHECK(glob(fs, pattern).empty());
}

TEMPLATE_TEST_CASE("read_text", "[rootfs]", MemTree, DirTree) {
  TestType t;
  t.file("/etc/os-release", "ID=debian\n");
  t.file("/etc/empty", "");
  t.link("/etc/link", "os-release");
  t.dir("/etc/dir");
  t.big_file("/big", (64ull << 20) + 1);
  t.big_file("/limit", 64ull << 20);
  const RootFs& fs = t.fs();
  using Catch::Matchers::Contains;

  CHECK(read_text(fs, "/etc/os-release") == "ID=debian\n");
  CHECK(read_text(fs, "/etc/link") == "ID=debian\n");
  CHECK(read_text(fs, "/etc/empty") == "");
  CHECK(read_text(fs, "/etc/missing") == std::nullopt);
  CHECK_THROWS_WITH(read_text(fs, "/etc/dir"), Contains("/etc/dir in " + fs.describe()));
  CHECK_THROWS_WITH(read_text(fs, "/big"), Contains("/big in " + fs.describe()) && Contains("MiB"));
  CHECK(read_text(fs, "/limit")->size() == (64ull << 20));
}

// What resolve() made of a path: the physical path and links, or the error.
std::string outcome_of(const std::function<std::optional<Resolved>()>& resolve_it) {
  try {
    auto r = resolve_it();
    if (!r) return "<absent>";
    std::string out = r->path;
    for (const auto& link : r->links) out += " via " + link;
    return out;
  } catch (const Error& e) {
    return std::string("error: ") + e.what();
  }
}

TEMPLATE_TEST_CASE("PathResolver resolves as resolve() does", "[rootfs]", MemTree, DirTree) {
  TestType t;
  t.dir("/usr/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3");
  t.link("/lib", "usr/lib");
  t.link("/lib64", "/usr/lib");
  t.file("/usr/lib/x86_64-linux-gnu/libz.so.1.2.13", "Z");
  t.link("/usr/lib/x86_64-linux-gnu/libz.so.1", "libz.so.1.2.13");
  t.link("/usr/lib/x86_64-linux-gnu/abs", "/lib/x86_64-linux-gnu/libz.so.1");
  t.link("/usr/lib/x86_64-linux-gnu/up", "../../../etc/x");
  t.link("/usr/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3/libz.so.1", "../../libz.so.1");
  t.file("/etc/x", "X");
  t.link("/a", "b");
  t.link("/b", "/a");
  t.link("/dirlink", "usr/lib/x86_64-linux-gnu");
  // Chains inside one directory (the resolver's quick path), and what it
  // leaves to the general walk: loops, "." and "..", too many hops.
  const std::string lib = "/usr/lib/x86_64-linux-gnu/";
  t.link(lib + "c1", "c2");
  t.link(lib + "c2", "libz.so.1");
  t.link(lib + "l1", "l2");
  t.link(lib + "l2", "l1");
  t.link(lib + "self", "self");
  t.link(lib + "dot", ".");
  t.link(lib + "dotdot", "..");
  t.link(lib + "to-missing", "none");
  for (int i = 0; i < 41; ++i) t.link(lib + "h" + std::to_string(i), "h" + std::to_string(i + 1));
  t.link(lib + "h41", "libz.so.1.2.13");
  // From h3: 39 hops, plus /lib: 40, the most allowed; h2-ok is one more.
  t.link(lib + "h2-ok", "h3");
  const RootFs& fs = t.fs();
  PathResolver paths(fs);
  const Strings cases = {"/lib/x86_64-linux-gnu/libz.so.1",
                         "/lib/x86_64-linux-gnu/abs",
                         "/lib64/x86_64-linux-gnu/up",
                         "/lib/x86_64-linux-gnu/libz.so.1/",
                         "/lib/x86_64-linux-gnu/none",
                         "/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3/libz.so.1",
                         "/lib/x86_64-linux-gnu/libz.so.1/x",
                         "/lib/x86_64-linux-gnu/libz.so.1/..",
                         "/lib/x86_64-linux-gnu/.",
                         "/lib/x86_64-linux-gnu/",
                         "/lib/../etc/x",
                         "/nodir/libz.so.1",
                         "/etc/x/y",
                         "/a/x",
                         "/a",
                         "/dirlink",
                         "/",
                         "relative/x",
                         "lib/x86_64-linux-gnu/libz.so.1",
                         "//lib//x86_64-linux-gnu//libz.so.1",
                         "/lib/x86_64-linux-gnu/c1",
                         "/lib/x86_64-linux-gnu/l1",
                         "/lib/x86_64-linux-gnu/self",
                         "/lib/x86_64-linux-gnu/dot",
                         "/lib/x86_64-linux-gnu/dotdot",
                         "/lib/x86_64-linux-gnu/to-missing",
                         "/lib/x86_64-linux-gnu/h0",
                         "/lib/x86_64-linux-gnu/h3",
                         "/lib/x86_64-linux-gnu/h2-ok"};
  // Twice: the second round answers from the remembered directories.
  for (int round = 0; round < 2; ++round) {
    for (const auto& path : cases) {
      for (const bool follow_last : {true, false}) {
        INFO(path << " follow_last " << follow_last << " round " << round);
        CHECK(outcome_of([&] { return paths.resolve(path, follow_last); }) ==
              outcome_of([&] { return resolve(fs, path, follow_last); }));
      }
    }
  }
}

TEMPLATE_TEST_CASE("backend primitives", "[rootfs]", MemTree, DirTree) {
  TestType t;
  t.file("/etc/hosts", "127.0.0.1 localhost\n");
  t.file("/etc/b", "");
  t.dir("/etc/a");
  t.link("/etc/l", "hosts");
  const RootFs& fs = t.fs();
  using Catch::Matchers::Contains;

  CHECK(fs.list("/etc") == Strings{"a", "b", "hosts", "l"});
  CHECK(fs.list("/") == Strings{"etc"});
  CHECK(fs.list("/etc/a").empty());
  CHECK(fs.lstat("/etc/l")->type == FileType::Symlink);
  CHECK(fs.lstat("/etc/a")->type == FileType::Directory);
  CHECK(fs.lstat("/")->type == FileType::Directory);
  CHECK_FALSE(fs.lstat("/etc/none"));
  CHECK_FALSE(fs.lstat("/etc/hosts/x"));
  CHECK(fs.readlink("/etc/l") == "hosts");

  auto view = fs.open("/etc/hosts");
  auto bytes = view->bytes();
  CHECK(std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()) ==
        "127.0.0.1 localhost\n");
  CHECK(fs.open("/etc/b")->bytes().empty());

  auto reader = fs.open_reader("/etc/hosts", *fs.lstat("/etc/hosts"));
  CHECK(reader->size() == 20);
  std::string piece(9, '\0');
  reader->read(10, std::as_writable_bytes(std::span(piece)));
  CHECK(piece == "localhost");
  CHECK_THROWS_WITH(reader->read(15, std::as_writable_bytes(std::span(piece))),
                    Contains("/etc/hosts in " + fs.describe()));
  CHECK(fs.open_reader("/etc/b", *fs.lstat("/etc/b"))->size() == 0);
  CHECK_THROWS_WITH(fs.open_reader("/etc/a", *fs.lstat("/etc/a")),
                    Contains("/etc/a in " + fs.describe()));
  CHECK_THROWS_WITH(fs.open_reader("/etc/l", *fs.lstat("/etc/l")),
                    Contains("/etc/l in " + fs.describe()));
  // Told it is a regular file, a backend must still not follow the symlink.
  CHECK_THROWS_WITH(fs.open_reader("/etc/l", *fs.lstat("/etc/hosts")),
                    Contains("/etc/l in " + fs.describe()));
  CHECK_THROWS_AS(fs.open_reader("/etc/none", *fs.lstat("/etc/hosts")), Error);

  CHECK_THROWS_WITH(fs.open("/etc/a"), Contains("/etc/a in " + fs.describe()));
  CHECK_THROWS_WITH(fs.open("/etc/l"), Contains("/etc/l in " + fs.describe()));
  CHECK_THROWS_AS(fs.open("/etc/none"), Error);
  CHECK_THROWS_WITH(fs.readlink("/etc/hosts"), Contains("not a symbolic link"));
  CHECK_THROWS_WITH(fs.list("/etc/hosts"), Contains("/etc/hosts in " + fs.describe()));
}

TEST_CASE("DirRootFs: primitives never follow a link, even by mistake", "[rootfs]") {
  DirTree t;
  t.outside("etc/passwd", "HOST\n");
  t.outside("outdir/f", "HOST\n");
  t.link("/lib", "/../../../etc");  // on the host: /etc
  t.link("/up", "..");              // on the host: TMP
  t.link("/pw", "/etc/passwd");
  const RootFs& fs = t.fs();

  CHECK(fs.describe() == "dir:" + fs::canonical(t.root).string());
  // Intermediate symlinks in what should be a physical path: refused, never followed.
  CHECK_THROWS_AS(fs.open("/lib/passwd"), Error);
  CHECK_THROWS_AS(fs.open("/up/etc/passwd"), Error);
  CHECK_THROWS_AS(fs.open("/pw"), Error);
  CHECK_THROWS_AS(fs.list("/up"), Error);
  CHECK_THROWS_AS(fs.list("/up/outdir"), Error);
  CHECK_THROWS_AS(fs.readlink("/up/up"), Error);
  CHECK_THROWS_AS(fs.lstat("/up/outdir"), Error);
  // ".." in a primitive's path is lexical and stays at the root.
  CHECK_FALSE(fs.lstat("/../outdir"));
  CHECK(fs.list("/..") == Strings{"lib", "pw", "up"});
}

TEST_CASE("DirRootFs: special files and bad roots", "[rootfs]") {
  DirTree t;
  REQUIRE(::mkfifo((t.root / "fifo").c_str(), 0644) == 0);
  using Catch::Matchers::Contains;
  // A FIFO must be refused, not block the open.
  CHECK_THROWS_WITH(t.fs().open("/fifo"), Contains("/fifo in dir:") && Contains("not a regular"));
  CHECK(t.fs().lstat("/fifo")->type == FileType::Other);
  CHECK_THROWS_AS(read_text(t.fs(), "/fifo"), Error);

  CHECK_THROWS_AS(DirRootFs((t.tmp / "missing").string()), Error);
  DirTree::write(t.tmp / "plain", "x");
  CHECK_THROWS_WITH(DirRootFs((t.tmp / "plain").string()), Contains("not a directory"));

  // A root given through a symlink is made canonical.
  fs::create_symlink(t.root, t.tmp / "rootlink");
  DirRootFs via((t.tmp / "rootlink").string());
  CHECK(via.dir() == fs::canonical(t.root).string());
}

TEST_CASE("MemRootFs: adders", "[rootfs]") {
  MemRootFs m;
  m.add_file("/a/b/c", "1", 0600);
  CHECK(m.lstat("/a")->type == FileType::Directory);
  CHECK(m.lstat("/a")->mode == 0755);
  CHECK(m.lstat("/a/b/c")->mode == 0600);
  CHECK(m.lstat("/a/b/c")->size == 1);

  m.add_file("/a/b/c", "22");  // replaces
  CHECK(read_text(m, "/a/b/c") == "22");
  m.add_dir("/a", 0700);  // keeps children
  CHECK(m.lstat("/a")->mode == 0700);
  CHECK(m.list("/a") == Strings{"b"});

  auto view = m.open("/a/b/c");
  m.add_file("/a/b/c", "333");
  CHECK(view->bytes().size() == 2);  // a view outlives later changes

  m.add_symlink("/a/b", "/x");  // a directory replaced: its children go
  CHECK_FALSE(m.lstat("/a/b/c"));
  CHECK(m.lstat("/a/b")->type == FileType::Symlink);
  m.add_file("/a/b-c", "");
  m.add_dir("/a/b");
  CHECK(m.list("/a") == Strings{"b", "b-c"});
  m.add_file("/a/b/y", "");  // after "/a/b-c" in key order: list skips it
  m.add_file("/a/c/d/e", "");
  CHECK(m.list("/a") == Strings{"b", "b-c", "c"});
  CHECK(m.list("/") == Strings{"a"});
  CHECK_THROWS_AS(m.add_file("/a/b-c/x", ""), Error);  // under a file
  CHECK_THROWS_AS(m.add_file("/", ""), Error);
}
