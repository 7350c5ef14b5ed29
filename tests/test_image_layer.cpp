// The deterministic layer writer: bytes, digests, tar contents.
#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>

#include <catch2/catch.hpp>
#include <clocale>
#include <filesystem>
#include <fstream>
#include <map>

#include "dslim/digest.hpp"
#include "dslim/error.hpp"
#include "dslim/layer_listing.hpp"
#include "dslim/layer_writer.hpp"
#include "dslim/rootfs.hpp"

using namespace dslim;

namespace {

rootfs::MemRootFs sample_fs() {
  rootfs::MemRootFs fs;
  fs.add_file("/src/app", std::string(5000, 'a') + "tail", 0755);
  fs.add_file("/src/lib/libx.so.1.2.3", "libx bytes", 0644);
  fs.add_file("/src/etc/passwd", "root:x:0:0::/root:/bin/sh\n", 0600);
  fs.add_symlink("/src/lib/libx.so.1", "libx.so.1.2.3");
  fs.add_dir("/src/tmp", 01777);
  return fs;
}

// Adds in a scrambled order: the output must not depend on it.
Layer build(const rootfs::RootFs& fs, LayerOptions opts = {}) {
  LayerWriter w(opts);
  w.add_from("/usr/lib/libx.so.1", fs, "/src/lib/libx.so.1");
  w.add_file("/app", fs, "/src/app");
  w.add_from("/tmp", fs, "/src/tmp");
  w.add_file("/usr/lib/libx.so.1.2.3", fs, "/src/lib/libx.so.1.2.3");
  w.add_file("/etc/passwd", fs, "/src/etc/passwd");
  return w.finish();
}

// Every member in turn, as gzip -d does: the writer emits one per MiB.
std::string gunzip(std::string_view in) {
  z_stream z{};
  REQUIRE(inflateInit2(&z, 15 + 16) == Z_OK);
  std::string out;
  char buf[65536];
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  for (;;) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    int rc = inflate(&z, Z_NO_FLUSH);
    REQUIRE((rc == Z_OK || rc == Z_STREAM_END));
    out.append(buf, sizeof buf - z.avail_out);
    if (rc == Z_STREAM_END) {
      if (z.avail_in == 0) break;
      REQUIRE(inflateReset(&z) == Z_OK);
    }
  }
  inflateEnd(&z);
  return out;
}

struct RawEntry {
  std::string path;
  bool has_uname, has_gname, has_atime, has_ctime;
  int xattrs;
};

// Independent of list_layer_files: straight libarchive over the tar.
std::vector<RawEntry> raw_entries(std::string_view tar) {
  archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  REQUIRE(archive_read_open_memory(a, tar.data(), tar.size()) == ARCHIVE_OK);
  std::vector<RawEntry> out;
  archive_entry* e;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    const char* un = archive_entry_uname(e);
    const char* gn = archive_entry_gname(e);
    out.push_back({archive_entry_pathname(e), un && *un, gn && *gn,
                   archive_entry_atime_is_set(e) != 0, archive_entry_ctime_is_set(e) != 0,
                   archive_entry_xattr_count(e)});
  }
  archive_read_free(a);
  return out;
}

}  // namespace

TEST_CASE("the same inputs give byte-identical layers") {
  auto fs = sample_fs();
  Layer a = build(fs);
  Layer b = build(fs);
  CHECK(a.blob.bytes() == b.blob.bytes());
  CHECK(a.blob.digest() == b.blob.digest());
  CHECK(a.diff_id == b.diff_id);
  CHECK(a.blob.digest() == sha256_digest(a.blob.bytes()));
  CHECK(a.blob.media_type() == "application/vnd.oci.image.layer.v1.tar+gzip");
}

TEST_CASE("a different epoch gives a different digest") {
  auto fs = sample_fs();
  Layer a = build(fs, {.epoch = 0});
  Layer b = build(fs, {.epoch = 1700000000});
  CHECK(a.blob.digest() != b.blob.digest());
  CHECK(a.diff_id != b.diff_id);
}

TEST_CASE("gzip header has no name and mtime 0") {
  auto fs = sample_fs();
  Layer layer = build(fs);
  auto bytes = layer.blob.bytes();
  REQUIRE(bytes.size() > 10);
  CHECK(static_cast<unsigned char>(bytes[0]) == 0x1f);
  CHECK(static_cast<unsigned char>(bytes[1]) == 0x8b);
  CHECK(bytes[3] == 0);                                          // FLG: no FNAME, FCOMMENT, FEXTRA
  CHECK(bytes.substr(4, 4) == std::string_view("\0\0\0\0", 4));  // MTIME
}

TEST_CASE("diff_id is the sha256 of the gunzipped tar") {
  auto fs = sample_fs();
  Layer l = build(fs);
  std::string tar = gunzip(l.blob.bytes());
  CHECK(l.diff_id == sha256_digest(tar));
  CHECK(l.tar_size == tar.size());
}

TEST_CASE("tar entries are sorted, parents explicit, owner 0, mtime epoch, modes kept") {
  auto fs = sample_fs();
  Layer l = build(fs, {.epoch = 1234});
  auto files = list_layer_files(l.blob.bytes(), "test layer");
  std::vector<std::string> paths;
  for (const auto& f : files) paths.push_back(f.path);
  CHECK(paths == std::vector<std::string>{"/app", "/etc", "/etc/passwd", "/tmp", "/usr", "/usr/lib",
                                          "/usr/lib/libx.so.1", "/usr/lib/libx.so.1.2.3"});
  for (const auto& f : files) {
    INFO(f.path);
    CHECK(f.uid == 0);
    CHECK(f.gid == 0);
    CHECK(f.mtime == 1234);
  }
  auto find = [&](const std::string& p) {
    for (const auto& f : files)
      if (f.path == p) return f;
    FAIL("no " << p);
    return LayerFile{};
  };
  CHECK(find("/app").mode == 0755);
  CHECK(find("/app").size == 5004);
  CHECK(find("/etc").type == LayerEntryType::Dir);
  CHECK(find("/etc").mode == 0755);
  CHECK(find("/etc/passwd").mode == 0600);
  CHECK(find("/tmp").mode == 01777);
  CHECK(find("/usr/lib/libx.so.1").type == LayerEntryType::Symlink);
  CHECK(find("/usr/lib/libx.so.1").link_target == "libx.so.1.2.3");

  for (const auto& r : raw_entries(gunzip(l.blob.bytes()))) {
    INFO(r.path);
    CHECK(r.path.front() != '/');
    CHECK_FALSE(r.has_uname);
    CHECK_FALSE(r.has_gname);
    CHECK_FALSE(r.has_atime);
    CHECK_FALSE(r.has_ctime);
    CHECK(r.xattrs == 0);
  }
}

TEST_CASE("owner overrides apply per entry and by default") {
  rootfs::MemRootFs fs;
  fs.add_file("/f", "x");
  LayerWriter w({.uid = 65532, .gid = 65532});
  w.add_file("/home/nonroot/f", fs, "/f");
  w.add_bytes("/etc/group", "root:x:0:\n", {.mode = 0644, .uid = 0, .gid = 0});
  auto files = list_layer_files(w.finish().blob.bytes(), "t");
  for (const auto& f : files) {
    INFO(f.path);
    CHECK(f.uid == (f.path == "/etc/group" ? 0u : 65532u));
  }
}

TEST_CASE("long and non-ASCII paths round-trip and stay deterministic") {
  rootfs::MemRootFs fs;
  fs.add_file("/f", "x");
  std::string long_dir = "/" + std::string(150, 'd');
  std::string long_name = long_dir + "/" + std::string(120, 'n');  // no ustar split fits
  auto make = [&] {
    LayerWriter w;
    w.add_file(long_name, fs, "/f");
    w.add_file("/caf\xc3\xa9", fs, "/f");
    return w.finish();
  };
  Layer a = make();
  CHECK(a.blob.digest() == make().blob.digest());
  auto files = list_layer_files(a.blob.bytes(), "t");
  REQUIRE(files.size() == 3);
  CHECK(files[0].path == "/caf\xc3\xa9");
  CHECK(files[1].path == long_dir);
  CHECK(files[2].path == long_name);
  // The extended header is named without a pid or anything run-dependent.
  std::string tar = gunzip(a.blob.bytes());
  CHECK(tar.find("PaxHeader/") != std::string::npos);
  CHECK(tar.find(std::to_string(getpid())) == std::string::npos);
}

TEST_CASE("a layer over 1 MiB is several gzip members that read as one stream") {
  rootfs::MemRootFs fs;
  std::string big;
  uint32_t x = 1;
  for (size_t i = 0; i < (3u << 20); ++i) {  // 3 MiB that compress, but not to nothing
    x = x * 1103515245 + 12345;
    big.push_back(static_cast<char>('a' + (x >> 16) % 8));
  }
  fs.add_file("/big", big, 0644);
  auto one = [&] {
    LayerWriter w(LayerOptions{});
    w.add_file("/big", fs, "/big");
    return w.finish();
  };
  Layer l = one();
  std::string_view gz = l.blob.bytes();
  // A member starts at the top of every MiB of tar: magic, deflate, no flags.
  size_t members = 0;
  for (size_t at = 0; (at = gz.find("\x1f\x8b\x08\x00", at)) != std::string_view::npos; ++at)
    ++members;
  CHECK(members >= 4);
  std::string tar = gunzip(gz);
  CHECK(tar.size() == l.tar_size);
  CHECK(sha256_digest(tar) == l.diff_id);
  CHECK(tar.find(big) != std::string::npos);
  CHECK(one().blob.digest() == l.blob.digest());  // whatever the threads' timing
}

TEST_CASE("zstd layers") {
  auto fs = sample_fs();
  Layer z = build(fs, {.compression = Compression::Zstd});
  Layer g = build(fs);
  auto bytes = z.blob.bytes();
  CHECK(bytes.substr(0, 4) == std::string_view("\x28\xb5\x2f\xfd", 4));
  CHECK(z.blob.media_type() == "application/vnd.oci.image.layer.v1.tar+zstd");
  CHECK(z.diff_id == g.diff_id);  // the same tar, compressed differently
  CHECK(z.blob.digest() == build(fs, {.compression = Compression::Zstd}).blob.digest());
  CHECK(list_layer_files(bytes, "t").size() == 8);
}

TEST_CASE("uncompressed layers: digest equals diff_id") {
  auto fs = sample_fs();
  Layer l = build(fs, {.compression = Compression::None});
  CHECK(l.blob.digest() == l.diff_id);
  CHECK(l.blob.media_type() == "application/vnd.oci.image.layer.v1.tar");
}

TEST_CASE("parse_compression") {
  CHECK(parse_compression("gzip") == Compression::Gzip);
  CHECK(parse_compression("zstd") == Compression::Zstd);
  CHECK_THROWS_AS(parse_compression("lz4"), Error);
}

TEST_CASE("set_compression_level: each compressor's range, and smaller output at a higher level") {
  LayerOptions gzip{.compression = Compression::Gzip};
  set_compression_level(gzip, 12);
  CHECK(gzip.gzip_level == 12);
  CHECK_THROWS_WITH(set_compression_level(gzip, 13), Catch::Contains("gzip takes 1 to 12"));
  CHECK_THROWS_AS(set_compression_level(gzip, 0), Error);
  LayerOptions zstd{.compression = Compression::Zstd};
  set_compression_level(zstd, 19);
  CHECK(zstd.zstd_level == 19);
  CHECK_THROWS_WITH(set_compression_level(zstd, 20), Catch::Contains("zstd takes 1 to 19"));
  LayerOptions none{.compression = Compression::None};
  CHECK_THROWS_AS(set_compression_level(none, 1), Error);

  // Machine code (this test's own): a higher level finds more of its matches.
  std::ifstream self("/proc/self/exe", std::ios::binary);
  std::string code(256 * 1024, '\0');
  self.read(code.data(), static_cast<std::streamsize>(code.size()));
  REQUIRE(self.gcount() == static_cast<std::streamsize>(code.size()));
  rootfs::MemRootFs fs;
  fs.add_file("/t", code);
  auto layer_at = [&](LayerOptions options, int level) {
    set_compression_level(options, level);
    LayerWriter w(options);
    w.add_file("/t", fs, "/t");
    return w.finish().blob.size();
  };
  CHECK(layer_at({.compression = Compression::Zstd}, 19) <
        layer_at({.compression = Compression::Zstd}, 1));
  CHECK(layer_at({.compression = Compression::Gzip}, 12) <
        layer_at({.compression = Compression::Gzip}, 1));
}

TEST_CASE("duplicate paths: identical entries collapse, conflicts name the path") {
  rootfs::MemRootFs fs;
  fs.add_file("/a", "same");
  fs.add_file("/b", "same");
  fs.add_file("/c", "different");
  LayerWriter w;
  w.add_file("/x", fs, "/a");
  w.add_file("/x", fs, "/a");
  w.add_file("/x", fs, "/b");  // same bytes from elsewhere
  w.add_bytes("/x", "same");
  w.add_dir("/d");
  w.add_dir("/d");
  w.add_symlink("/l", "x");
  w.add_symlink("/l", "x");
  CHECK(w.size() == 3);
  CHECK_THROWS_WITH(w.add_file("/x", fs, "/c"), Catch::Contains("/x"));
  CHECK_THROWS_WITH(w.add_dir("/d", {.mode = 0700}), Catch::Contains("/d"));
  CHECK_THROWS_WITH(w.add_symlink("/l", "y"), Catch::Contains("/l"));
  CHECK_THROWS_WITH(w.add_dir("/x"), Catch::Contains("/x"));
  w.add_file("/x/inside", fs, "/a");  // /x is a file: caught at finish
  CHECK_THROWS_WITH(w.finish(), Catch::Contains("/x"));
}

TEST_CASE("explicit parent directories keep their mode - implicit ones are 0755") {
  rootfs::MemRootFs fs;
  fs.add_file("/f", "x");
  LayerWriter w;
  w.add_file("/a/b/c/f", fs, "/f");
  w.add_dir("/a/b", {.mode = 0700});
  auto files = list_layer_files(w.finish().blob.bytes(), "t");
  REQUIRE(files.size() == 4);
  CHECK(files[0].mode == 0755);
  CHECK(files[1].mode == 0700);
  CHECK(files[2].mode == 0755);
}

TEST_CASE("image paths are cleaned - relative and '..' refused") {
  CHECK(clean_image_path("/a//b/./c/") == "/a/b/c");
  CHECK(clean_image_path("/") == "/");
  CHECK_THROWS_AS(clean_image_path("a/b"), Error);
  CHECK_THROWS_WITH(clean_image_path("/a/../b"), Catch::Contains("/a/../b"));
  LayerWriter w;
  w.add_dir("/");  // the root itself is implied
  CHECK(w.size() == 0);
}

TEST_CASE("host files through DirRootFs") {
  namespace fsys = std::filesystem;
  fsys::path dir = fsys::temp_directory_path() / ("dslim-layer-" + std::to_string(getpid()));
  fsys::create_directories(dir);
  std::ofstream(dir / "hello") << "hello";
  fsys::permissions(dir / "hello", fsys::perms(0750));
  rootfs::DirRootFs host(dir.string());
  LayerWriter w;
  w.add_file("/app/hello", host, "/hello");
  auto files = list_layer_files(w.finish().blob.bytes(), "t");
  fsys::remove_all(dir);
  REQUIRE(files.size() == 2);
  CHECK(files[1].size == 5);
  CHECK(files[1].mode == 0750);
}

TEST_CASE("a missing source file is an error naming it") {
  rootfs::MemRootFs fs;
  LayerWriter w;
  CHECK_THROWS_WITH(w.add_file("/x", fs, "/nope"), Catch::Contains("/nope"));
}

TEST_CASE("a corrupt layer is an error naming it") {
  auto fs = sample_fs();
  std::string bytes(build(fs).blob.bytes());
  bytes[bytes.size() / 2] ^= 0x55;
  CHECK_THROWS_WITH(list_layer_files(bytes, "layer sha256:abc"), Catch::Contains("sha256:abc"));
}

TEST_CASE("ASCII layers are plain ustar - non-ASCII names do not depend on the locale") {
  auto fs = sample_fs();
  CHECK(gunzip(build(fs).blob.bytes()).find("PaxHeader") == std::string::npos);

  rootfs::MemRootFs src;
  src.add_file("/f", "x");
  auto make = [&] {
    LayerWriter w;
    w.add_file("/usr/share/zoneinfo/Am\xc3\xa9rica", src, "/f");
    w.add_symlink("/l\xc3\xa9", "Am\xc3\xa9rica");
    return w.finish();
  };
  std::string before = setlocale(LC_ALL, nullptr);
  Layer c = make();
  if (setlocale(LC_ALL, "C.UTF-8") || setlocale(LC_ALL, "C.utf8")) {
    Layer u = make();
    CHECK(u.blob.digest() == c.blob.digest());
  } else {
    if (std::getenv("CI")) FAIL("no UTF-8 locale to compare against (CI is set)");
    WARN("no UTF-8 locale to compare against");
  }
  setlocale(LC_ALL, before.c_str());
  auto files = list_layer_files(c.blob.bytes(), "t");
  CHECK(files.back().path == "/usr/share/zoneinfo/Am\xc3\xa9rica");
}

namespace {

// Keeps layers in memory, counting what it is asked.
struct MemoryReuse : LayerReuse {
  std::map<std::string, ReusedLayer> kept;
  int hits = 0;
  std::optional<ReusedLayer> find(const std::string& key, const std::string& variant,
                                  const std::string&) override {
    auto it = kept.find(key + variant);
    if (it == kept.end()) return std::nullopt;
    ++hits;
    return it->second;
  }
  void keep(const std::string& key, const std::string& variant, const ReusedLayer& l) override {
    kept.insert_or_assign(key + variant, l);
  }
};

// Names its files' contents without reading them; reading is an error.
struct NamedContents : rootfs::MemRootFs {
  std::string id = "blob@1";
  std::optional<std::string> content_id(const std::string&) const override { return id; }
  std::unique_ptr<rootfs::FileView> open(const std::string& path) const override {
    if (unread) throw Error("read " + path);
    return MemRootFs::open(path);
  }
  bool unread = false;
};

}  // namespace

TEST_CASE("an unchanged layer is taken from the reuse, unwritten; any change misses it") {
  auto fs = sample_fs();
  MemoryReuse reuse;
  Layer first = [&] {
    LayerWriter w;
    w.add_file("/app", fs, "/src/app");
    w.add_symlink("/lib/x", "y");
    return w.finish(&reuse);
  }();
  CHECK_FALSE(first.reused);
  REQUIRE(reuse.kept.size() == 1);
  auto again = [&](const rootfs::RootFs& from, const std::string& target, LayerOptions o = {}) {
    LayerWriter w(o);
    w.add_file("/app", from, "/src/app");
    w.add_symlink("/lib/x", target);
    return w.finish(&reuse);
  };
  Layer second = again(fs, "y");
  CHECK(second.reused);
  CHECK(second.blob.digest() == first.blob.digest());
  CHECK(second.diff_id == first.diff_id);
  CHECK(second.tar_size == first.tar_size);
  REQUIRE(second.files.size() == first.files.size());
  for (size_t i = 0; i < first.files.size(); ++i) {
    CHECK(second.files[i].path == first.files[i].path);
    CHECK(second.files[i].size == first.files[i].size);
  }
  CHECK_FALSE(again(fs, "z").reused);  // a symlink's target
  CHECK_FALSE(again(fs, "y", {.epoch = 5}).reused);
  auto changed = sample_fs();
  changed.add_file("/src/app", std::string(5000, 'a') + "TAIL", 0755);  // same size, other bytes
  CHECK_FALSE(again(changed, "y").reused);
  CHECK(reuse.hits == 1);

  // Contents named by the file system are not read at all on a hit.
  NamedContents named;
  named.add_file("/src/app", "v1", 0755);
  CHECK_FALSE(again(named, "y").reused);
  named.unread = true;
  CHECK(again(named, "y").reused);
  named.id = "blob@2";
  CHECK_THROWS_WITH(again(named, "y"), Catch::Contains("read /src/app"));
}
