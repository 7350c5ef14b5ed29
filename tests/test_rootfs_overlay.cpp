// OverlayRootFs: added files over a source root, placed through its symlinks.
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "dslim/error.hpp"
#include "dslim/rootfs.hpp"
#include "support/temp_dir.hpp"

using namespace dslim;
using namespace dslim::rootfs;

namespace {

std::string contents(const RootFs& fs, const std::string& path) {
  auto view = fs.open(path);
  auto bytes = view->bytes();
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

MemRootFs merged_usr() {
  MemRootFs lower;
  lower.add_symlink("/lib", "usr/lib");
  lower.add_file("/usr/lib/libc.so.6", "libc", 0755);
  lower.add_dir("/etc", 0700);
  lower.add_file("/etc/hosts", "lower hosts");
  return lower;
}

}  // namespace

TEST_CASE("overlay: added entries are placed through the lower root's symlinks") {
  MemRootFs lower = merged_usr();
  OverlayRootFs overlay(lower);
  CHECK(overlay.add_file("/lib/x86_64/libfoo.so", "foo") == "/usr/lib/x86_64/libfoo.so");
  CHECK(overlay.lstat("/lib")->type == FileType::Symlink);  // not hidden by a directory
  auto where = resolve(overlay, "/lib/x86_64/libfoo.so");
  REQUIRE(where);
  CHECK(where->path == "/usr/lib/x86_64/libfoo.so");
  CHECK(contents(overlay, where->path) == "foo");
  CHECK(overlay.list("/usr/lib") == std::vector<std::string>{"libc.so.6", "x86_64"});
}

TEST_CASE("overlay: upper entries win and lower directories keep their mode") {
  MemRootFs lower = merged_usr();
  OverlayRootFs overlay(lower);
  overlay.add_file("/etc/hosts", "upper hosts");
  CHECK(contents(overlay, "/etc/hosts") == "upper hosts");
  CHECK(overlay.lstat("/etc")->mode == 0700);
  CHECK(contents(overlay, "/usr/lib/libc.so.6") == "libc");
  CHECK(lower.lstat("/etc/hosts")->size == std::string("lower hosts").size());  // lower untouched
}

TEST_CASE("overlay: adding below a file is an error naming both") {
  MemRootFs lower = merged_usr();
  OverlayRootFs overlay(lower);
  try {
    overlay.add_file("/etc/hosts/x", "");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("/etc/hosts is not a directory") != std::string::npos);
  }
}

TEST_CASE("overlay: host files are read on open, with their mode") {
  test::TempDir tmp;
  auto host = tmp.path() / "app";
  std::ofstream(host) << "#!/bin/sh\necho hi\n";
  std::filesystem::permissions(host, std::filesystem::perms(0750));
  MemRootFs lower = merged_usr();
  OverlayRootFs overlay(lower);
  CHECK(overlay.add_host_file("/app", host.string()) == "/app");
  CHECK(overlay.lstat("/app")->mode == 0750);
  CHECK(contents(overlay, "/app") == "#!/bin/sh\necho hi\n");
  overlay.add_host_file("/bin/app", host.string(), 0755);
  CHECK(overlay.lstat("/bin/app")->mode == 0755);
  CHECK_THROWS_AS(overlay.add_host_file("/x", (tmp.path() / "missing").string()), Error);
  CHECK_THROWS_AS(overlay.add_host_file("/x", tmp.str()), Error);  // a directory
}

TEST_CASE("overlay: a made directory is empty and keeps its own mode") {
  MemRootFs lower = merged_usr();
  lower.add_file("/tmp/cache/object.o", "secret");
  lower.add_dir("/tmp", 0755);
  OverlayRootFs overlay(lower);
  overlay.add_dir("/tmp", 01777);
  CHECK(overlay.lstat("/tmp")->mode == 01777);
  CHECK(overlay.list("/tmp").empty());
  CHECK(!overlay.lstat("/tmp/cache/object.o"));
  CHECK(!resolve(overlay, "/tmp/cache"));
  overlay.add_file("/tmp/mine", "x");
  CHECK(overlay.list("/tmp") == std::vector<std::string>{"mine"});
}
