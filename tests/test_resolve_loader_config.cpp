// ld.so.conf, ld.so.preload, musl path files and search path strings, read
// from in-memory roots the way ldconfig, rtld and musl read them.
#include <catch2/catch.hpp>

#include "dslim/error.hpp"
#include "dslim/loader_config.hpp"
#include "dslim/rootfs.hpp"

using dslim::resolve::parse_musl_path;
using dslim::resolve::read_ld_so_conf;
using dslim::resolve::read_ld_so_preload;
using dslim::resolve::split_rpath;
using dslim::resolve::split_search_path;
using dslim::rootfs::MemRootFs;
using V = std::vector<std::string>;
using Catch::Matchers::Contains;

namespace {

// A MemRootFs that counts the directories listed (the work of a glob).
class CountingFs : public dslim::rootfs::RootFs {
 public:
  MemRootFs mem;
  mutable int lists = 0;
  std::string describe() const override { return mem.describe(); }
  std::optional<dslim::rootfs::Stat> lstat(const std::string& p) const override {
    return mem.lstat(p);
  }
  std::string readlink(const std::string& p) const override { return mem.readlink(p); }
  std::vector<std::string> list(const std::string& p) const override {
    ++lists;
    return mem.list(p);
  }
  std::unique_ptr<dslim::rootfs::FileView> open(const std::string& p) const override {
    return mem.open(p);
  }
};

}  // namespace

TEST_CASE("ld.so.conf: comments, blanks, includes with several sorted globs") {
  MemRootFs fs;
  fs.add_file("/etc/ld.so.conf",
              "# system libraries\n"
              "\n"
              "   /usr/local/lib   # trailing comment\n"
              "include /etc/ld.so.conf.d/*.conf /etc/extra/?.conf\n"
              "/opt/last/\n"
              "\t/opt/tabbed\t\n");
  // Sorted by name, whatever order they were added in.
  fs.add_file("/etc/ld.so.conf.d/zz-last.conf", "/zz\n");
  fs.add_file("/etc/ld.so.conf.d/00-first.conf", "/first\n/usr/local/lib\n");
  fs.add_file("/etc/ld.so.conf.d/x86_64-linux-gnu.conf",
              "# Multiarch support\n/usr/local/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu\n");
  fs.add_file("/etc/ld.so.conf.d/README", "/not/a/conf\n");    // does not match *.conf
  fs.add_file("/etc/ld.so.conf.d/.hidden.conf", "/hidden\n");  // glob(3) skips dot files
  fs.add_file("/etc/extra/b.conf", "/extra/b\n");
  fs.add_file("/etc/extra/a.conf", "/extra/a\n");
  fs.add_file("/etc/extra/ab.conf", "/extra/ab\n");  // ? matches one character

  CHECK(read_ld_so_conf(fs) == V{"/usr/local/lib", "/first", "/usr/local/lib/x86_64-linux-gnu",
                                 "/lib/x86_64-linux-gnu", "/zz", "/extra/a", "/extra/b",
                                 "/opt/last", "/opt/tabbed"});
}

TEST_CASE("ld.so.conf: relative include patterns follow the including file") {
  MemRootFs fs;
  fs.add_file("/etc/ld.so.conf", "include ld.so.conf.d/*.conf\n");
  fs.add_file("/etc/ld.so.conf.d/a.conf", "/a\ninclude sub/*.conf\n");
  fs.add_file("/etc/ld.so.conf.d/sub/b.conf", "/b\n");
  fs.add_file("/ld.so.conf.d/wrong.conf", "/wrong\n");  // relative to "/" would find this
  CHECK(read_ld_so_conf(fs) == V{"/a", "/b"});
}

TEST_CASE("ld.so.conf: another file name, and includes through symlinks") {
  MemRootFs fs;
  fs.add_file("/srv/conf/main.conf", "include conf.d/*\n/main\n");
  fs.add_file("/srv/real/one", "/one\n");
  fs.add_symlink("/srv/conf/conf.d", "../real");
  CHECK(read_ld_so_conf(fs, "/srv/conf/main.conf") == V{"/one", "/main"});
}

TEST_CASE("ld.so.conf: hwcap lines, =TYPE suffixes, normalization, duplicates") {
  MemRootFs fs;
  fs.add_file("/etc/ld.so.conf",
              "hwcap 1 nosegneg\n"
              "HWCAP 0 tls\n"
              "/lib/libc5=libc5\n"
              "/usr//lib/./x/../y/\n"
              "/usr/lib/y\n"
              "relative/dir\n"
              "include\n"       // no pattern: a (relative) directory named include
              "includes/dir\n"  // not an include line
              "/\n"
              "/with space\n"  // one directory per line, as ldconfig reads it
              "/a:/b\n");
  CHECK(read_ld_so_conf(fs) == V{"/lib/libc5", "/usr/lib/y", "/", "/with space", "/a:/b"});
}

TEST_CASE("ld.so.conf: include cycles and self-includes are cut") {
  MemRootFs fs;
  fs.add_file("/etc/ld.so.conf", "/top\ninclude /etc/a.conf\n/after\n");
  fs.add_file("/etc/a.conf", "/a\ninclude /etc/b.conf /etc/a.conf\n");
  fs.add_file("/etc/b.conf", "/b\ninclude /etc/ld.so.conf /etc/*.conf\n");
  CHECK(read_ld_so_conf(fs) == V{"/top", "/a", "/b", "/after"});

  MemRootFs self;
  self.add_file("/etc/ld.so.conf", "include /etc/ld.so.conf\n/x\n");
  self.add_symlink("/etc/alias.conf", "ld.so.conf");
  self.add_file("/etc/ld.so.conf.d/c.conf", "include ../alias.conf\n/c\n");
  CHECK(read_ld_so_conf(self) == V{"/x"});
  CHECK(read_ld_so_conf(self, "/etc/ld.so.conf.d/c.conf") == V{"/x", "/c"});
}

TEST_CASE("ld.so.conf: a long include chain stops at the depth bound") {
  MemRootFs fs;
  fs.add_file("/etc/ld.so.conf", "include /etc/c/0.conf\n");
  for (int i = 0; i < 100; ++i)
    fs.add_file("/etc/c/" + std::to_string(i) + ".conf",
                "/d" + std::to_string(i) + "\ninclude /etc/c/" + std::to_string(i + 1) + ".conf\n");
  auto dirs = read_ld_so_conf(fs);
  REQUIRE(!dirs.empty());
  CHECK(dirs.size() < 100);
  CHECK(dirs.front() == "/d0");
}

TEST_CASE("ld.so.conf: a repeated include pattern is globbed once") {
  CountingFs fs;
  std::string conf;
  for (int i = 0; i < 1000; ++i) conf += "include /etc/ld.so.conf.d/*.conf\n";
  // The same pattern spelled relative, with "//" and "./": one pattern still.
  conf += "include ld.so.conf.d/*.conf /etc//ld.so.conf.d/./*.conf\n/last\n";
  fs.mem.add_file("/etc/ld.so.conf", conf);
  fs.mem.add_file("/etc/ld.so.conf.d/a.conf", "/a\ninclude /etc/ld.so.conf.d/*.conf\n");
  fs.mem.add_file("/etc/ld.so.conf.d/b.conf", "/b\n");
  CHECK(read_ld_so_conf(fs) == V{"/a", "/b", "/last"});
  // Once at the top, once from a.conf (met while the first was under way).
  CHECK(fs.lists == 2);
}

TEST_CASE("ld.so.conf: a pattern first met below the depth bound is expanded again higher up") {
  // 15.conf is read at depth 16, the deepest; the files its include names
  // are cut there. The same include in ld.so.conf must still read them.
  MemRootFs fs;
  fs.add_file("/etc/ld.so.conf", "include /etc/c/0.conf\ninclude /etc/deep/*.conf\n");
  for (int i = 0; i < 15; ++i)
    fs.add_file("/etc/c/" + std::to_string(i) + ".conf",
                "include /etc/c/" + std::to_string(i + 1) + ".conf\n");
  fs.add_file("/etc/c/15.conf", "/d15\ninclude /etc/deep/*.conf\n");
  fs.add_file("/etc/deep/x.conf", "/deep\n");
  CHECK(read_ld_so_conf(fs) == V{"/d15", "/deep"});
}

TEST_CASE("ld.so.conf: the include patterns read at most 100,000 directory entries") {
  MemRootFs fs;
  for (int i = 0; i < 1000; ++i) fs.add_file("/d/" + std::to_string(i), "");
  // Different patterns (no two alike), each listing the 1000 entries of /d.
  auto conf = [](int patterns) {
    std::string text;
    for (int i = 0; i < patterns; ++i) text += "include /d/*" + std::to_string(i) + "x\n";
    return text + "/kept\n";
  };
  fs.add_file("/etc/ld.so.conf", conf(100));  // 100,000 entries: the bound itself
  CHECK(read_ld_so_conf(fs) == V{"/kept"});
  fs.add_file("/etc/ld.so.conf", conf(101));
  CHECK_THROWS_WITH(read_ld_so_conf(fs), Contains("/etc/ld.so.conf in memory: include /d/*100x") &&
                                             Contains("more than 100000 directory entries"));

  // One pattern is bounded too: symlinks back to / make each `*` list the
  // root again, over a million paths for these six.
  MemRootFs loops;
  for (char c = 'a'; c <= 'j'; ++c) loops.add_symlink(std::string("/") + c, "/");
  loops.add_file("/etc/ld.so.conf", "include /*/*/*/*/*/*\n");
  CHECK_THROWS_WITH(read_ld_so_conf(loops), Contains("more than 100000 directory entries"));
}

TEST_CASE("ld.so.conf: missing and unreadable files") {
  MemRootFs empty;
  CHECK(read_ld_so_conf(empty).empty());

  MemRootFs fs;
  fs.add_file("/etc/ld.so.conf",
              "include /etc/missing/*.conf\n"
              "include /etc/nothing.conf\n"
              "include /etc/dir.conf\n"
              "include /etc/loop.conf\n"
              "include /etc/dangling.conf\n"
              "/kept\n");
  fs.add_dir("/etc/dir.conf");
  fs.add_symlink("/etc/loop.conf", "loop.conf");
  fs.add_symlink("/etc/dangling.conf", "/nowhere");
  CHECK(read_ld_so_conf(fs) == V{"/kept"});

  MemRootFs dir;
  dir.add_dir("/etc/ld.so.conf");
  CHECK(read_ld_so_conf(dir).empty());
}

TEST_CASE("ld.so.conf: a last line without a newline") {
  MemRootFs fs;
  fs.add_file("/etc/ld.so.conf", "/one\n/two");
  CHECK(read_ld_so_conf(fs) == V{"/one", "/two"});
}

TEST_CASE("ld.so.preload: whitespace or ':' separated, '#' comments") {
  MemRootFs none;
  CHECK(read_ld_so_preload(none).empty());

  MemRootFs fs;
  fs.add_file("/etc/ld.so.preload",
              "# preload these\n"
              "/usr/lib/libjemalloc.so.2 libfoo.so:libbar.so\t/lib/x.so # not#this\n"
              "\n"
              "last.so");
  CHECK(read_ld_so_preload(fs) ==
        V{"/usr/lib/libjemalloc.so.2", "libfoo.so", "libbar.so", "/lib/x.so", "last.so"});

  MemRootFs dir;
  dir.add_dir("/etc/ld.so.preload");
  CHECK(read_ld_so_preload(dir).empty());
}

TEST_CASE("musl path files split on ':' and newline, empties dropped") {
  CHECK(parse_musl_path("/lib:/usr/local/lib:/usr/lib") == V{"/lib", "/usr/local/lib", "/usr/lib"});
  CHECK(parse_musl_path("/lib\n/usr/lib\n\n::/opt/lib:\n") == V{"/lib", "/usr/lib", "/opt/lib"});
  CHECK(parse_musl_path("").empty());
  CHECK(parse_musl_path(":\n:").empty());
  CHECK(parse_musl_path("/a;/b") == V{"/a;/b"});  // ';' is not a separator for musl
}

TEST_CASE("search paths split as glibc's fillin_rpath does") {
  // LD_LIBRARY_PATH: ':' and ';'.
  CHECK(split_search_path("/a:/b;/c") == V{"/a", "/b", "/c"});
  CHECK(split_search_path("").empty());
  // Empty elements are the current directory, once.
  CHECK(split_search_path(":/a") == V{".", "/a"});
  CHECK(split_search_path("/a:") == V{"/a", "."});
  CHECK(split_search_path("/a::/b;") == V{"/a", ".", "/b"});
  // Trailing slashes go (not the root's), repeats go, first kept.
  CHECK(split_search_path("/a/:/a//:/:/b:/a") == V{"/a", "/", "/b"});
  CHECK(split_search_path("$ORIGIN/../lib:$ORIGIN/../lib/") == V{"$ORIGIN/../lib"});
  // RPATH and RUNPATH: ':' only.
  CHECK(split_rpath("/a;/b:/c") == V{"/a;/b", "/c"});
  CHECK(split_rpath("$ORIGIN::$ORIGIN") == V{"$ORIGIN", "."});
  CHECK(split_rpath("").empty());
}
