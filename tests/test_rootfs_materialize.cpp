// materialize(): an image root written into a host directory for the probe
// sandbox, confined to it (DESIGN.md §5), and materialize_path() on demand.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "dslim/byte_reader.hpp"
#include "dslim/error.hpp"
#include "dslim/layered_rootfs.hpp"
#include "dslim/materialize.hpp"
#include "dslim/rootfs.hpp"
#include "support/temp_dir.hpp"

using namespace dslim;
using namespace dslim::rootfs;
using dslim::test::TempDir;
namespace stdfs = std::filesystem;

namespace {

struct stat host_lstat(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) throw std::runtime_error(path + ": " + std::strerror(errno));
  return st;
}

bool host_exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

mode_t mode(const std::string& path) {
  return host_lstat(path).st_mode & 07777;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string link_target(const std::string& path) {
  return stdfs::read_symlink(path).string();
}

void write_host(const std::string& path, const std::string& contents) {
  std::ofstream(path, std::ios::binary) << contents;
}

// A file in the host's /etc that no image may name: it must never appear.
std::string canary_name() {
  return "dslim-materialize-canary-" + std::to_string(::getpid());
}

MemRootFs sample() {
  MemRootFs m;
  m.add_file("/etc/hosts", "127.0.0.1 localhost\n");
  m.add_file("/etc/shadow", "root:*:1::::::\n", 0640);
  m.add_file("/usr/bin/tool", "#!/bin/sh\necho hi\n", 0755);
  m.add_file("/usr/bin/su", "setuid", 04755);
  m.add_file("/usr/bin/wall", "setgid", 02755);
  m.add_file("/usr/bin/sticky", "sticky", 01755);
  m.add_file("/usr/lib/empty", "");
  m.add_file("/usr/lib/big", std::string(3 << 20, 'b'));
  m.add_dir("/ro", 0555);
  m.add_dir("/ro/sub", 0555);
  m.add_file("/ro/sub/file", "deep", 0444);
  m.add_dir("/tmp", 01777);
  m.add_dir("/secret", 0700);
  m.add_dir("/none", 0);
  m.add_file("/none/x", "in a 000 directory");
  m.add_symlink("/lib", "usr/lib");
  m.add_symlink("/usr/bin/tool-abs", "/usr/bin/tool");
  m.add_symlink("/usr/bin/tool-rel", "../bin/tool");
  m.add_symlink("/escape-abs", "/../../etc");
  m.add_symlink("/escape-rel", "../../..");
  m.add_symlink("/etc-link", "/etc");
  m.add_symlink("/dangling", "/nowhere/at/all");
  return m;
}

// A backend that lists names no file system holds.
class HostileRootFs : public RootFs {
 public:
  explicit HostileRootFs(std::string bad) : bad_(std::move(bad)) { inner_.add_file("/ok", "fine"); }
  std::string describe() const override { return "hostile"; }
  std::optional<Stat> lstat(const std::string& path) const override {
    if (path == "/" + bad_ || path == "/") return inner_.lstat("/");  // "a directory"
    return inner_.lstat(path);
  }
  std::string readlink(const std::string& path) const override { return inner_.readlink(path); }
  std::vector<std::string> list(const std::string& path) const override {
    auto names = inner_.list(path);
    if (path == "/") names.push_back(bad_);
    return names;
  }
  std::unique_ptr<FileView> open(const std::string& path) const override {
    return inner_.open(path);
  }

 private:
  MemRootFs inner_;
  std::string bad_;
};

// Tars for LayeredRootFs (as in test_rootfs_layered.cpp).
struct E {
  E(std::string p, char t = 'f', std::string d = "", uint32_t m = 0644)
      : path(std::move(p)), type(t), data(std::move(d)), mode(m) {}
  std::string path;
  char type;         // f file, d dir, l symlink, h hardlink, c char device, p FIFO
  std::string data;  // contents, or link target
  uint32_t mode;
};

la_ssize_t append(struct archive*, void* out, const void* buf, size_t n) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(buf), n);
  return static_cast<la_ssize_t>(n);
}

std::string make_tar(const std::vector<E>& entries) {
  std::string out;
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_set_bytes_in_last_block(a, 1);
  REQUIRE(archive_write_open(a, &out, nullptr, append, nullptr) == ARCHIVE_OK);
  for (const auto& e : entries) {
    archive_entry* ae = archive_entry_new();
    archive_entry_set_pathname(ae, e.path.c_str());
    archive_entry_set_perm(ae, e.mode);
    archive_entry_set_uid(ae, 1000);
    archive_entry_set_gid(ae, 1001);
    switch (e.type) {
      case 'f':
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_set_size(ae, static_cast<la_int64_t>(e.data.size()));
        break;
      case 'd':
        archive_entry_set_filetype(ae, AE_IFDIR);
        break;
      case 'l':
        archive_entry_set_filetype(ae, AE_IFLNK);
        archive_entry_set_symlink(ae, e.data.c_str());
        break;
      case 'h':
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_set_hardlink(ae, e.data.c_str());
        break;
      case 'c':
        archive_entry_set_filetype(ae, AE_IFCHR);
        archive_entry_set_rdev(ae, makedev(1, 3));
        break;
      case 'p':
        archive_entry_set_filetype(ae, AE_IFIFO);
        break;
    }
    REQUIRE(archive_write_header(a, ae) == ARCHIVE_OK);
    if (e.type == 'f' && !e.data.empty())
      REQUIRE(archive_write_data(a, e.data.data(), e.data.size()) ==
              static_cast<la_ssize_t>(e.data.size()));
    archive_entry_free(ae);
  }
  REQUIRE(archive_write_close(a) == ARCHIVE_OK);
  archive_write_free(a);
  return out;
}

LayeredRootFs merge(const std::vector<std::string>& tars) {
  std::vector<LayerInput> layers;
  for (size_t i = 0; i < tars.size(); ++i) {
    auto bytes = std::make_shared<const std::string>(tars[i]);
    layers.push_back(
        {"sha256:l" + std::to_string(i + 1), "", [bytes] { return memory_reader(*bytes); }});
  }
  return LayeredRootFs("oci:test", layers, temporary_layer_store());
}

// Runs `body` in a child process as nobody (65534), for the rules without
// root's rights; returns what it wrote to stderr, or "" when it exited 0.
template <class F>
std::string as_nobody(F body) {
  int pipefd[2];
  REQUIRE(::pipe(pipefd) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(pipefd[0]);
    ::dup2(pipefd[1], 2);
    if (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 ||
        ::setresuid(65534, 65534, 65534) != 0) {
      ::write(2, "cannot become nobody", 20);
      ::_exit(1);
    }
    try {
      body();
    } catch (const std::exception& e) {
      ::write(2, e.what(), std::strlen(e.what()));
      ::_exit(1);
    }
    ::_exit(0);
  }
  ::close(pipefd[1]);
  std::string err;
  char buf[512];
  ssize_t n;
  while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0) err.append(buf, static_cast<size_t>(n));
  ::close(pipefd[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "";
  return err.empty() ? "exit status " + std::to_string(status) : err;
}

}  // namespace

TEST_CASE("materialize: files, modes, directories and symlinks as the image holds them") {
  MemRootFs m = sample();
  TempDir tmp;
  const std::string d = tmp.str();
  MaterializeStats stats = materialize(m, d);

  CHECK(slurp(d + "/etc/hosts") == "127.0.0.1 localhost\n");
  CHECK(mode(d + "/etc/hosts") == 0644);
  CHECK(mode(d + "/etc/shadow") == 0640);
  CHECK(mode(d + "/usr/bin/tool") == 0755);
  // Set-uid, set-gid and sticky bits of files are dropped.
  CHECK(mode(d + "/usr/bin/su") == 0755);
  CHECK(mode(d + "/usr/bin/wall") == 0755);
  CHECK(mode(d + "/usr/bin/sticky") == 0755);
  CHECK(slurp(d + "/usr/bin/su") == "setuid");
  CHECK(host_lstat(d + "/usr/lib/empty").st_size == 0);
  CHECK(slurp(d + "/usr/lib/big") == std::string(3 << 20, 'b'));
  // Directories keep their mode, read-only and sticky ones too, once filled.
  CHECK(mode(d + "/ro") == 0555);
  CHECK(mode(d + "/ro/sub") == 0555);
  CHECK(slurp(d + "/ro/sub/file") == "deep");
  CHECK(mode(d + "/ro/sub/file") == 0444);
  CHECK(mode(d + "/tmp") == 01777);
  CHECK(mode(d + "/secret") == 0700);
  CHECK(mode(d + "/none") == 0);
  CHECK(mode(d) == 0755);  // dest is the root
  // Symlinks as stored: absolute targets are in-root paths.
  CHECK(link_target(d + "/lib") == "usr/lib");
  CHECK(link_target(d + "/usr/bin/tool-abs") == "/usr/bin/tool");
  CHECK(link_target(d + "/usr/bin/tool-rel") == "../bin/tool");
  CHECK(link_target(d + "/dangling") == "/nowhere/at/all");

  CHECK(stats.files == 10);
  CHECK(stats.dirs == 9);  // dest itself not counted
  CHECK(stats.symlinks == 7);
  CHECK(stats.bytes == 20 + 15 + 18 + 6 + 6 + 6 + (3 << 20) + 4 + 18);
  CHECK(stats.skipped == 0);
}

TEST_CASE("materialize: symlinks pointing outside are written, never followed") {
  MemRootFs m = sample();
  // Entries below links that point outside: were a link followed while
  // writing, these would land in the host's /etc.
  const std::string canary = canary_name();
  m.add_file("/etc/" + canary, "image");
  TempDir tmp;
  const std::string d = tmp.str();
  materialize(m, d);
  CHECK(link_target(d + "/escape-abs") == "/../../etc");
  CHECK(link_target(d + "/escape-rel") == "../../..");
  CHECK(link_target(d + "/etc-link") == "/etc");
  CHECK(S_ISREG(host_lstat(d + "/etc/" + canary).st_mode));
  CHECK_FALSE(host_exists("/etc/" + canary));

  // materialize_path through those links resolves them inside the root.
  TempDir lazy;
  const std::string l = lazy.str();
  CHECK(materialize_path(m, "/etc-link/" + canary, l));
  CHECK(materialize_path(m, "/escape-abs/" + canary, l));
  CHECK(materialize_path(m, "/escape-rel/etc/" + canary, l));
  CHECK(link_target(l + "/etc-link") == "/etc");
  CHECK(link_target(l + "/escape-abs") == "/../../etc");
  CHECK(link_target(l + "/escape-rel") == "../../..");
  CHECK(slurp(l + "/etc/" + canary) == "image");
  CHECK_FALSE(host_exists("/etc/" + canary));
}

TEST_CASE("materialize: a directory over a lower layer's symlink to /etc stays inside dest") {
  const std::string canary = canary_name();
  // Layer 1 makes /evil a link to the host-looking /etc; layer 2 writes
  // below it (the merged root shows a directory, as overlayfs would).
  auto fs = merge({make_tar({{"evil", 'l', "/etc"}, {"up", 'l', "../../../../etc"}}),
                   make_tar({{"evil/" + canary, 'f', "layer 2"}, {"up/" + canary, 'f', "up"}})});
  TempDir tmp;
  const std::string d = tmp.str();
  materialize(fs, d);
  CHECK(S_ISDIR(host_lstat(d + "/evil").st_mode));
  CHECK(slurp(d + "/evil/" + canary) == "layer 2");
  CHECK(slurp(d + "/up/" + canary) == "up");
  CHECK_FALSE(host_exists("/etc/" + canary));
}

TEST_CASE("materialize: a symlink planted in dest is never followed") {
  MemRootFs m;
  m.add_file("/usr/" + canary_name(), "x");
  TempDir tmp;
  const std::string d = tmp.str();
  REQUIRE(::symlink("/etc", (d + "/usr").c_str()) == 0);
  CHECK_THROWS_WITH(
      materialize_path(m, "/usr/" + canary_name(), d),
      Catch::Contains("materialize memory: cannot write below " + d + "/usr: not a directory"));
  CHECK_FALSE(host_exists("/etc/" + canary_name()));
  // materialize() wants an empty dest.
  CHECK_THROWS_WITH(materialize(m, d), Catch::Contains(d + " is not empty"));
}

TEST_CASE("materialize: names that are not one path component are refused") {
  for (std::string bad : {"..", ".", "a/b", "../../etc"}) {
    HostileRootFs fs(bad);
    TempDir tmp;
    CHECK_THROWS_WITH(materialize(fs, tmp.str()),
                      Catch::Contains("hostile: refusing the entry name \"" + bad + "\" in /"));
  }
}

TEST_CASE("materialize: devices, FIFOs and sockets are skipped; hardlinks are copies") {
  TempDir src;
  const std::string s = src.str() + "/root";
  stdfs::create_directories(s + "/dev");
  write_host(s + "/a", "shared bytes");
  REQUIRE(::link((s + "/a").c_str(), (s + "/b").c_str()) == 0);
  REQUIRE(::mkfifo((s + "/dev/fifo").c_str(), 0644) == 0);
  uint64_t specials = 1;
  if (::geteuid() == 0) {
    REQUIRE(::mknod((s + "/dev/null").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0);
    ++specials;
  }
  {
    int sock = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::string where = s + "/dev/sock";
    if (where.size() < sizeof addr.sun_path) {
      std::strcpy(addr.sun_path, where.c_str());
      if (::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) ++specials;
    }
    ::close(sock);
  }
  DirRootFs fs(s);
  TempDir tmp;
  const std::string d = tmp.str();
  MaterializeStats stats = materialize(fs, d);
  CHECK(stats.skipped == specials);
  CHECK(stats.files == 2);
  CHECK_FALSE(host_exists(d + "/dev/fifo"));
  CHECK_FALSE(host_exists(d + "/dev/null"));
  CHECK_FALSE(host_exists(d + "/dev/sock"));
  CHECK(S_ISDIR(host_lstat(d + "/dev").st_mode));
  CHECK(slurp(d + "/b") == "shared bytes");
  CHECK(host_lstat(d + "/a").st_ino != host_lstat(d + "/b").st_ino);
  CHECK(host_lstat(d + "/a").st_nlink == 1);
}

TEST_CASE("materialize: a layered root's hardlinks are copies, its devices skipped") {
  auto fs = merge({make_tar({{"bin", 'd', "", 0755},
                             {"bin/a", 'f', "AAA", 04755},
                             {"bin/b", 'h', "bin/a"},
                             {"dev/null", 'c'},
                             {"run/fifo", 'p'}}),
                   make_tar({{"bin/c", 'h', "bin/a"}})});
  TempDir tmp;
  const std::string d = tmp.str();
  MaterializeStats stats = materialize(fs, d);
  CHECK(stats.files == 3);
  CHECK(stats.bytes == 9);
  CHECK(stats.skipped == 2);
  for (const char* p : {"/bin/a", "/bin/b", "/bin/c"}) {
    CHECK(slurp(d + p) == "AAA");
    CHECK(mode(d + p) == 0755);
    CHECK(host_lstat(d + p).st_nlink == 1);
  }
  if (::geteuid() == 0) {  // owners kept as root
    CHECK(host_lstat(d + "/bin/c").st_uid == 1000);
    CHECK(host_lstat(d + "/bin/c").st_gid == 1001);
    CHECK(host_lstat(d + "/bin").st_uid == 1000);
  }
  TempDir mine;
  MaterializeOptions options;
  options.keep_owners = false;
  materialize(fs, mine.str(), options);
  CHECK(host_lstat(mine.str() + "/bin/c").st_uid == ::geteuid());
}

TEST_CASE("materialize: owners are kept as root, left as the caller's otherwise") {
  if (::geteuid() != 0) {  // needs chown in the source tree
    if (std::getenv("CI")) FAIL("owners can only be tested as root (CI runs as root)");
    return;
  }
  TempDir src;
  const std::string s = src.str() + "/root";
  stdfs::create_directories(s + "/home/u");
  write_host(s + "/home/u/f", "x");
  REQUIRE(::symlink("f", (s + "/home/u/l").c_str()) == 0);
  REQUIRE(::lchown((s + "/home/u").c_str(), 1234, 5678) == 0);
  REQUIRE(::lchown((s + "/home/u/f").c_str(), 1235, 5679) == 0);
  REQUIRE(::lchown((s + "/home/u/l").c_str(), 1236, 5680) == 0);
  DirRootFs fs(s);
  TempDir tmp;
  const std::string d = tmp.str();
  materialize(fs, d);
  CHECK(host_lstat(d + "/home/u").st_uid == 1234);
  CHECK(host_lstat(d + "/home/u").st_gid == 5678);
  CHECK(host_lstat(d + "/home/u/f").st_uid == 1235);
  CHECK(host_lstat(d + "/home/u/l").st_uid == 1236);
  CHECK(host_lstat(d + "/home/u/l").st_gid == 5680);

  // Without root's rights: the caller's, and 0555 directories still fill.
  MemRootFs m = sample();
  TempDir other;
  const std::string o = other.str();
  REQUIRE(::chmod(o.c_str(), 0777) == 0);
  REQUIRE(::mkdir((o + "/whole").c_str(), 0755) == 0);
  REQUIRE(::mkdir((o + "/lazy").c_str(), 0755) == 0);
  REQUIRE(::chown((o + "/whole").c_str(), 65534, 65534) == 0);
  REQUIRE(::chown((o + "/lazy").c_str(), 65534, 65534) == 0);
  std::string err = as_nobody([&] {
    materialize(m, o + "/whole");
    materialize_path(m, "/ro/sub/file", o + "/lazy");
    materialize_path(m, "/none/x", o + "/lazy");
    materialize_path(m, "/ro/sub", o + "/lazy");  // again: below a 0555 directory
    materialize_path(m, "/secret", o + "/lazy");
  });
  CHECK(err == "");
  for (const std::string& w : {o + "/whole", o + "/lazy"}) {
    INFO(w);
    CHECK(host_lstat(w + "/ro/sub/file").st_uid == 65534);
    CHECK(slurp(w + "/ro/sub/file") == "deep");
    CHECK(mode(w + "/ro") == 0555);
    CHECK(mode(w + "/ro/sub") == 0555);
    CHECK(mode(w + "/none") == 0);
    CHECK(slurp(w + "/none/x") == "in a 000 directory");
    CHECK(mode(w + "/secret") == 0700);
  }
  CHECK(mode(o + "/whole/tmp") == 01777);
}

TEST_CASE("materialize: set-gid directories pass their bit on only where the image says") {
  MemRootFs m;
  m.add_dir("/srv", 02775);
  m.add_dir("/srv/plain", 0755);
  m.add_dir("/srv/shared", 02755);
  m.add_file("/srv/plain/f", "x", 0644);
  TempDir tmp;
  const std::string d = tmp.str();
  materialize(m, d);
  CHECK(mode(d + "/srv") == 02775);
  CHECK(mode(d + "/srv/plain") == 0755);
  CHECK(mode(d + "/srv/shared") == 02755);
  CHECK(mode(d + "/srv/plain/f") == 0644);

  // A subtree, and one path, below the set-gid directory.
  TempDir sub;
  MaterializeOptions o;
  o.path = "/srv/plain";
  materialize(m, sub.str(), o);
  CHECK(mode(sub.str() + "/srv") == 02775);
  CHECK(mode(sub.str() + "/srv/plain") == 0755);
  TempDir lazy;
  CHECK(materialize_path(m, "/srv/plain/f", lazy.str()));
  CHECK(mode(lazy.str() + "/srv/plain") == 0755);
  CHECK(mode(lazy.str() + "/srv") == 02775);
}

TEST_CASE("materialize: the bounds on entries, bytes and depth are errors naming them") {
  MemRootFs m = sample();
  {
    TempDir tmp;
    MaterializeOptions o;
    o.max_entries = 5;
    CHECK_THROWS_WITH(
        materialize(m, tmp.str(), o),
        Catch::Contains("materialize memory: ") &&
            Catch::Contains("would make more than 5 entries, the bound (max_entries)"));
  }
  {
    TempDir tmp;
    MaterializeOptions o;
    o.max_bytes = 1 << 20;
    CHECK_THROWS_WITH(materialize(m, tmp.str(), o),
                      Catch::Contains("/usr/lib/big (3145728 bytes) would write more than 1048576 "
                                      "bytes in all, the bound (max_bytes)"));
  }
  {
    TempDir tmp;
    MaterializeOptions o;
    o.max_depth = 1;
    CHECK_THROWS_WITH(
        materialize(m, tmp.str(), o),
        Catch::Contains("is nested deeper than 1 directories, the bound (max_depth)"));
  }
  {
    // One file hardlinked many times: the bytes bound catches the copies.
    std::vector<E> entries{{"big", 'f', std::string(1 << 20, 'x')}};
    for (int i = 0; i < 20; ++i) entries.push_back({"copy" + std::to_string(i), 'h', "big"});
    auto fs = merge({make_tar(entries)});
    TempDir tmp;
    MaterializeOptions o;
    o.max_bytes = 8 << 20;
    CHECK_THROWS_WITH(materialize(fs, tmp.str(), o), Catch::Contains("the bound (max_bytes)"));
  }
  {
    // materialize_path: the bounds apply to the running totals.
    TempDir tmp;
    MaterializeOptions o;
    o.max_entries = 3;
    MaterializeStats stats;
    CHECK(materialize_path(m, "/etc/hosts", tmp.str(), o, &stats));  // etc, hosts
    CHECK(stats.dirs + stats.files == 2);
    CHECK_THROWS_WITH(materialize_path(m, "/usr/bin/tool", tmp.str(), o, &stats),
                      Catch::Contains("the bound (max_entries)"));
  }
}

TEST_CASE("materialize_path: one entry with its parents and their modes, idempotent") {
  MemRootFs m = sample();
  TempDir tmp;
  const std::string d = tmp.str();
  MaterializeStats stats;
  CHECK(materialize_path(m, "/ro/sub/file", d, {}, &stats));
  CHECK(slurp(d + "/ro/sub/file") == "deep");
  CHECK(mode(d + "/ro/sub/file") == 0444);
  CHECK(mode(d + "/ro") == 0555);
  CHECK(mode(d + "/ro/sub") == 0555);
  CHECK(mode(d) == 0755);
  CHECK(stats.files == 1);
  CHECK(stats.dirs == 2);
  CHECK(stats.bytes == 4);

  // Again: nothing written twice.
  MaterializeStats again;
  CHECK(materialize_path(m, "/ro/sub/file", d, {}, &again));
  CHECK(again.files + again.dirs + again.symlinks + again.bytes == 0);
  CHECK(slurp(d + "/ro/sub/file") == "deep");

  // A directory comes without its contents.
  CHECK(materialize_path(m, "/usr/bin", d));
  CHECK(mode(d + "/usr/bin") == 0755);
  CHECK(stdfs::is_empty(d + "/usr/bin"));
  CHECK(materialize_path(m, "/tmp", d));
  CHECK(mode(d + "/tmp") == 01777);

  // Through symlinks: each link on the way, and the entry it leads to.
  CHECK(materialize_path(m, "/lib/big", d));
  CHECK(link_target(d + "/lib") == "usr/lib");
  CHECK(host_lstat(d + "/usr/lib/big").st_size == 3 << 20);
  CHECK(materialize_path(m, "/usr/bin/tool-rel", d));
  CHECK(link_target(d + "/usr/bin/tool-rel") == "../bin/tool");
  CHECK(slurp(d + "/usr/bin/tool") == "#!/bin/sh\necho hi\n");
  CHECK(materialize_path(m, "/usr/bin/su", d));
  CHECK(mode(d + "/usr/bin/su") == 0755);

  // A dangling last link is written; a missing path writes nothing.
  CHECK(materialize_path(m, "/dangling", d));
  CHECK(link_target(d + "/dangling") == "/nowhere/at/all");
  CHECK_FALSE(materialize_path(m, "/usr/nothing/here", d));
  CHECK_FALSE(host_exists(d + "/usr/nothing"));

  // The same tree as materialize() writes, for what it holds.
  TempDir whole;
  materialize(m, whole.str());
  for (const char* p :
       {"/ro", "/ro/sub", "/ro/sub/file", "/usr/lib/big", "/usr/bin/tool", "/lib"}) {
    INFO(p);
    CHECK(mode(d + p) == mode(whole.str() + p));
    CHECK(host_lstat(d + p).st_uid == host_lstat(whole.str() + p).st_uid);
  }
}

TEST_CASE("materialize: a subtree lands at its own path, below its parents") {
  MemRootFs m = sample();
  TempDir tmp;
  const std::string d = tmp.str();
  MaterializeOptions o;
  o.path = "/lib";  // a symlink: the link, then the directory it leads to
  MaterializeStats stats = materialize(m, d, o);
  CHECK(link_target(d + "/lib") == "usr/lib");
  CHECK(slurp(d + "/usr/lib/big").size() == 3 << 20);
  CHECK(host_exists(d + "/usr/lib/empty"));
  CHECK_FALSE(host_exists(d + "/usr/bin"));
  CHECK(stats.files == 2);
  CHECK(stats.symlinks == 1);
  CHECK(stats.dirs == 2);

  TempDir ro;
  o.path = "/ro";
  materialize(m, ro.str(), o);
  CHECK(mode(ro.str() + "/ro") == 0555);
  CHECK(mode(ro.str() + "/ro/sub") == 0555);
  CHECK(slurp(ro.str() + "/ro/sub/file") == "deep");

  TempDir none;
  o.path = "/missing";
  CHECK_THROWS_WITH(materialize(m, none.str(), o),
                    Catch::Contains("materialize memory: /missing: no such file or directory"));
}

TEST_CASE("materialize: a destination that is missing or not a directory is an error") {
  MemRootFs m = sample();
  TempDir tmp;
  CHECK_THROWS_WITH(
      materialize(m, tmp.str() + "/missing"),
      Catch::Contains("cannot open the destination directory " + tmp.str() + "/missing"));
  write_host(tmp.str() + "/file", "");
  CHECK_THROWS_WITH(materialize_path(m, "/etc/hosts", tmp.str() + "/file"),
                    Catch::Contains("cannot open the destination directory"));
}
