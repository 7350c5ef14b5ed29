// LayeredRootFs: layers built here with libarchive, merged as a container
// sees them (replace, whiteouts, opaque directories, hardlinks), and the
// errors for hostile or broken layers.
#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>

#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "dslim/digest.hpp"
#include "dslim/error.hpp"
#include "dslim/layered_rootfs.hpp"
#include "rootfs/merged_view.hpp"
#include "support/temp_dir.hpp"

using namespace dslim;
using namespace dslim::rootfs;
using dslim::test::TempDir;

namespace {

struct E {
  E(std::string p, char t = 'f', std::string d = "", uint32_t m = 0644)
      : path(std::move(p)), type(t), data(std::move(d)), mode(m) {}
  std::string path;
  char type;         // f file, d dir, l symlink, h hardlink, c char device
  std::string data;  // contents, or link target
  uint32_t mode;
};

la_ssize_t append(struct archive*, void* out, const void* buf, size_t n) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(buf), n);
  return static_cast<la_ssize_t>(n);
}

// filter: "" (plain tar), "gzip" or "zstd".
std::string make_tar(const std::vector<E>& entries, const std::string& filter = "") {
  std::string out;
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (filter == "gzip") archive_write_add_filter_gzip(a);
  if (filter == "zstd") archive_write_add_filter_zstd(a);
  archive_write_set_bytes_in_last_block(a, 1);
  REQUIRE(archive_write_open(a, &out, nullptr, append, nullptr) == ARCHIVE_OK);
  for (const auto& e : entries) {
    archive_entry* ae = archive_entry_new();
    archive_entry_set_pathname(ae, e.path.c_str());
    archive_entry_set_perm(ae, e.mode);
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
        archive_entry_set_rdev(ae, 0x0103);
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

// `bytes` compressed as one gzip member (libarchive's raw format).
std::string gzip(const std::string& bytes) {
  std::string out;
  struct archive* a = archive_write_new();
  archive_write_set_format_raw(a);
  archive_write_add_filter_gzip(a);
  archive_write_set_bytes_in_last_block(a, 1);
  REQUIRE(archive_write_open(a, &out, nullptr, append, nullptr) == ARCHIVE_OK);
  archive_entry* ae = archive_entry_new();
  archive_entry_set_filetype(ae, AE_IFREG);
  archive_entry_set_size(ae, static_cast<la_int64_t>(bytes.size()));
  REQUIRE(archive_write_header(a, ae) == ARCHIVE_OK);
  archive_write_data(a, bytes.data(), bytes.size());
  archive_entry_free(ae);
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

// Layers named sha256:l1, sha256:l2, … bottom first.
LayerInput input(const std::string& name, std::string blob, std::string diff_id = "") {
  auto bytes = std::make_shared<const std::string>(std::move(blob));
  return {name, std::move(diff_id), [bytes] { return memory_reader(*bytes); }};
}

LayeredRootFs merge(const std::vector<std::string>& blobs, const LayeredLimits& limits = {}) {
  std::vector<LayerInput> layers;
  for (size_t i = 0; i < blobs.size(); ++i)
    layers.push_back(input("sha256:l" + std::to_string(i + 1), blobs[i]));
  return LayeredRootFs("oci:test", layers, temporary_layer_store(), limits);
}

std::string contents(const RootFs& fs, const std::string& path) {
  auto view = fs.open(path);
  auto bytes = view->bytes();
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

using Names = std::vector<std::string>;

}  // namespace

TEST_CASE("layered: later layers replace earlier entries; paths are normalized") {
  auto fs = merge({make_tar({{"./", 'd'},
                             {"./etc/", 'd', "", 0700},
                             {"./etc/a", 'f', "one"},
                             {"./usr/bin/tool", 'f', "tool", 0755}}),
                   make_tar({{"etc/a", 'f', "two", 0600}, {"/usr//bin/./other", 'f', "x"}})});
  CHECK(contents(fs, "/etc/a") == "two");
  CHECK(fs.lstat("/etc/a")->mode == 0600);
  CHECK(fs.lstat("/etc")->mode == 0700);
  CHECK(fs.lstat("/usr")->type == FileType::Directory);  // made for /usr/bin/tool
  CHECK(fs.lstat("/usr/bin/tool")->mode == 0755);
  CHECK(fs.list("/usr/bin") == Names{"other", "tool"});
  CHECK(fs.list("/") == Names{"etc", "usr"});
  CHECK(fs.describe() == "oci:test");
  CHECK_FALSE(fs.lstat("/nope"));
  CHECK_THROWS_WITH(fs.open("/etc"), Catch::Contains("not a regular file"));
  CHECK_THROWS_WITH(fs.readlink("/etc/a"), Catch::Contains("not a symbolic link"));
  CHECK_THROWS_WITH(fs.list("/etc/a"), Catch::Contains("not a directory"));
}

TEST_CASE("layered: .wh.NAME deletes a file or a whole subtree of lower layers") {
  auto fs = merge({make_tar({{"usr/lib/libx.so", 'f', "x"},
                             {"usr/lib/liby.so", 'f', "y"},
                             {"opt/d/sub/f", 'f', "f"}}),
                   make_tar({{"usr/lib/.wh.libx.so", 'f'}, {"opt/.wh.d", 'f'}})});
  CHECK_FALSE(fs.lstat("/usr/lib/libx.so"));
  CHECK_FALSE(fs.lstat("/usr/lib/.wh.libx.so"));
  CHECK(fs.list("/usr/lib") == Names{"liby.so"});
  CHECK_FALSE(fs.lstat("/opt/d"));
  CHECK_FALSE(fs.lstat("/opt/d/sub/f"));
  CHECK(fs.list("/opt").empty());
}

TEST_CASE("layered: a whiteout deletes only lower entries, whatever its tar order") {
  auto fs = merge(
      {make_tar({{"etc/a", 'f', "old"}}), make_tar({{"etc/a", 'f', "new"}, {"etc/.wh.a", 'f'}})});
  CHECK(contents(fs, "/etc/a") == "new");
}

TEST_CASE("layered: .wh..wh..opq hides the lower children of its directory") {
  auto fs = merge({make_tar({{"etc/conf/a", 'f', "a"}, {"etc/conf/b/c", 'f', "c"}, {"etc/x", 'f'}}),
                   make_tar({{"etc/conf/", 'd', "", 0750},
                             {"etc/conf/.wh..wh..opq", 'f'},
                             {"etc/conf/new", 'f', "n"}})});
  CHECK(fs.list("/etc/conf") == Names{"new"});
  CHECK_FALSE(fs.lstat("/etc/conf/b/c"));
  CHECK(fs.lstat("/etc/conf")->mode == 0750);
  CHECK(fs.list("/etc") == Names{"conf", "x"});
}

TEST_CASE("layered: a file replaced by a symlink into a lower layer resolves there") {
  auto fs = merge({make_tar({{"usr/lib/libz.so.1.2", 'f', "zlib"}, {"lib/libz.so.1", 'f', "old"}}),
                   make_tar({{"lib/libz.so.1", 'l', "../usr/lib/libz.so.1.2"}})});
  CHECK(fs.lstat("/lib/libz.so.1")->type == FileType::Symlink);
  CHECK(fs.readlink("/lib/libz.so.1") == "../usr/lib/libz.so.1.2");
  auto r = resolve(fs, "/lib/libz.so.1");
  REQUIRE(r);
  CHECK(r->path == "/usr/lib/libz.so.1.2");
  CHECK(*read_text(fs, "/lib/libz.so.1") == "zlib");
}

TEST_CASE("layered: a directory replaced by a file drops its subtree, and back") {
  auto fs = merge({make_tar({{"a/b/c", 'f', "c"}}), make_tar({{"a/b", 'f', "now a file"}}),
                   make_tar({{"a/b/d", 'f', "d"}})});
  CHECK(fs.list("/a/b") == Names{"d"});
}

TEST_CASE("layered: hardlinks share their target's contents, in this layer or below") {
  auto fs = merge({make_tar({{"bin/a", 'f', "AAA", 0755}, {"bin/b", 'h', "bin/a"}}),
                   make_tar({{"./bin/c", 'h', "./bin/a"}})});
  CHECK(contents(fs, "/bin/b") == "AAA");
  CHECK(contents(fs, "/bin/c") == "AAA");
  CHECK(fs.lstat("/bin/c")->mode == 0755);
  CHECK(fs.lstat("/bin/c")->size == 3);
  CHECK_THROWS_WITH(merge({make_tar({{"bin/b", 'h', "bin/missing"}})}),
                    Catch::Contains("layer sha256:l1: hardlink /bin/b points at /bin/missing"));
}

TEST_CASE("layered: device nodes are Other; empty files open to no bytes") {
  auto fs = merge({make_tar({{"dev/null", 'c'}, {"etc/empty", 'f', ""}})});
  CHECK(fs.lstat("/dev/null")->type == FileType::Other);
  CHECK(contents(fs, "/etc/empty").empty());
}

TEST_CASE("layered: entries escaping the root and whiteouts of / are errors naming the layer") {
  std::string ok = make_tar({{"etc/a", 'f', "a"}});
  CHECK_THROWS_WITH(merge({ok, make_tar({{"../etc/passwd", 'f', "x"}})}),
                    "oci:test: layer sha256:l2: entry ../etc/passwd escapes the root");
  CHECK_THROWS_WITH(merge({make_tar({{"usr/../../etc/passwd", 'f', "x"}})}),
                    Catch::Contains("escapes the root"));
  CHECK_THROWS_WITH(merge({make_tar({{"bin/x", 'h', "../../etc/shadow"}})}),
                    Catch::Contains("entry ../../etc/shadow escapes the root"));
  CHECK_THROWS_WITH(merge({ok, make_tar({{".wh.", 'f'}})}),
                    "oci:test: layer sha256:l2: entry .wh. whites out the root /");
  CHECK_THROWS_WITH(merge({make_tar({{"etc/.wh...", 'f'}})}), Catch::Contains("escapes the root"));
}

TEST_CASE("layered: gzip, zstd and plain layers give the same view") {
  std::vector<E> entries = {{"usr/lib/libx.so", 'f', std::string(100000, 'x')},
                            {"etc/hosts", 'f', "127.0.0.1 localhost\n"}};
  for (std::string filter : {"", "gzip", "zstd"}) {
    INFO(filter);
    auto fs = merge({make_tar(entries, filter)});
    CHECK(contents(fs, "/usr/lib/libx.so") == std::string(100000, 'x'));
    CHECK(contents(fs, "/etc/hosts") == "127.0.0.1 localhost\n");
  }
}

TEST_CASE("layered: a gzip layer of several members is read whole") {
  std::string tar = make_tar({{"a", 'f', std::string(5000, 'a')}, {"b", 'f', "bbb"}});
  auto fs = merge({gzip(tar.substr(0, 3000)) + gzip(tar.substr(3000))});
  CHECK(contents(fs, "/a") == std::string(5000, 'a'));
  CHECK(contents(fs, "/b") == "bbb");
}

TEST_CASE("layered: truncated or corrupt layers are clear errors") {
  std::string data;
  for (int i = 0; i < 20000; ++i) data += std::to_string(i * 7919 % 10007) + "\n";
  std::vector<E> entries = {{"big", 'f', data}};
  std::string gz = make_tar(entries, "gzip");
  CHECK_THROWS_WITH(merge({gz.substr(0, gz.size() / 2)}),
                    "oci:test: layer sha256:l1: truncated gzip stream");
  CHECK_THROWS_WITH(merge({gz.substr(0, gz.size() - 4)}), Catch::Contains("truncated gzip"));
  std::string flipped = gz;
  flipped[gz.size() - 6] ^= 0x01;  // in the CRC trailer
  CHECK_THROWS_WITH(merge({flipped}), Catch::Contains("corrupt gzip stream"));
  std::string zst = make_tar(entries, "zstd");
  CHECK_THROWS_WITH(merge({zst.substr(0, zst.size() / 2)}),
                    "oci:test: layer sha256:l1: truncated zstd stream");
  std::string tar = make_tar(entries);
  CHECK_THROWS_WITH(merge({tar.substr(0, tar.size() / 2)}),
                    Catch::Contains("oci:test: layer sha256:l1: corrupt tar"));
}

TEST_CASE("layered: the inflated size and entry count are bounded") {
  std::string gz = make_tar({{"big", 'f', std::string(1 << 20, 'z')}}, "gzip");
  LayeredLimits small;
  small.max_layer_inflated = 1 << 16;
  CHECK_THROWS_WITH(merge({gz}, small), Catch::Contains("the bound for one layer"));
  LayeredLimits few;
  few.max_entries = 2;
  CHECK_THROWS_WITH(merge({make_tar({{"a", 'f'}, {"b", 'f'}}), make_tar({{"c", 'f'}})}, few),
                    Catch::Contains("the image holds more than 2 entries"));
}

TEST_CASE("layered: many layers, read in parallel, merge in order") {
  std::vector<std::string> blobs;
  for (int i = 0; i < 12; ++i) {
    std::string n = std::to_string(i);
    std::vector<E> entries = {{"etc/v", 'f', n}, {"d/f" + n, 'f', n}};
    if (i > 0) entries.push_back({"d/.wh.f" + std::to_string(i - 1), 'f'});
    blobs.push_back(make_tar(entries, i % 3 == 0 ? "gzip" : i % 3 == 1 ? "zstd" : ""));
  }
  auto fs = merge(blobs);
  CHECK(contents(fs, "/etc/v") == "11");
  CHECK(fs.list("/d") == Names{"f11"});
  blobs[4] = "not a layer at all, and long enough to be read as one";
  blobs[7] = blobs[4];
  CHECK_THROWS_WITH(merge(blobs), Catch::StartsWith("oci:test: layer sha256:l5: corrupt tar"));
}

TEST_CASE("layered: file views outlive the root that made them") {
  std::unique_ptr<FileView> view;
  {
    auto fs = merge({make_tar({{"f", 'f', "kept"}}, "gzip")});
    view = fs.open("/f");
  }
  auto bytes = view->bytes();
  CHECK(std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()) == "kept");
}

namespace {

// Merges one layer through a directory store, recording how it was obtained.
std::unique_ptr<LayeredRootFs> cached(const std::string& dir, const std::string& blob,
                                      const std::string& diff_id,
                                      std::vector<LayerReport>& reports) {
  auto store = directory_layer_store(dir);
  return std::make_unique<LayeredRootFs>(
      "oci:test", std::vector<LayerInput>{input("sha256:l1", blob, diff_id)}, store,
      LayeredLimits{}, [&reports](const LayerReport& r) { reports.push_back(r); });
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

}  // namespace

TEST_CASE("layered: a directory store keeps layers by diff_id for the next run") {
  TempDir t;
  std::string tar = make_tar({{"etc/motd", 'f', "hello"}, {"bin/sh", 'l', "busybox"}});
  std::string diff_id = sha256_digest(tar);
  std::string entry = t.str() + "/sha256/" + diff_id.substr(7);
  std::vector<LayerReport> reports;
  {
    auto fs = cached(t.str(), gzip(tar), diff_id, reports);
    CHECK(contents(*fs, "/etc/motd") == "hello");
  }
  REQUIRE(reports.size() == 1);
  CHECK_FALSE(reports[0].reused);
  CHECK(reports[0].location == entry);
  CHECK(std::filesystem::exists(entry));

  // The blob is not read again: a reader that fails proves it.
  reports.clear();
  auto store = directory_layer_store(t.str());
  LayerInput never{"sha256:l1", diff_id,
                   []() -> std::unique_ptr<ByteReader> { throw Error("the blob was read"); }};
  LayeredRootFs warm("oci:test", {never}, store, {},
                     [&](const LayerReport& r) { reports.push_back(r); });
  CHECK(contents(warm, "/etc/motd") == "hello");
  CHECK(warm.readlink("/bin/sh") == "busybox");
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].reused);
  CHECK_FALSE(reports[0].repaired);
}

TEST_CASE("layered: a cache entry serves only the blob it was made from") {
  TempDir t;
  std::string real = make_tar({{"lib/libc.so.6", 'f', "the real libc"}});
  std::string planted = make_tar({{"lib/libc.so.6", 'f', "a planted libc"}});
  std::string diff_id = sha256_digest(real);  // both images claim it
  auto run = [&](const std::string& blob_digest, const std::string& tar) {
    std::vector<LayerReport> reports;
    LayeredRootFs fs("oci:test", {input(blob_digest, gzip(tar), diff_id)},
                     directory_layer_store(t.str()), {},
                     [&](const LayerReport& r) { reports.push_back(r); });
    REQUIRE(reports.size() == 1);
    return std::make_pair(contents(fs, "/lib/libc.so.6"), reports[0].reused);
  };
  CHECK(run("sha256:evil", planted) == std::make_pair(std::string("a planted libc"), false));
  // The honest image's blob differs: the entry under its diff_id is not used.
  CHECK(run("sha256:honest", real) == std::make_pair(std::string("the real libc"), false));
  CHECK(run("sha256:honest", real) == std::make_pair(std::string("the real libc"), true));
  CHECK(run("sha256:evil", planted) == std::make_pair(std::string("a planted libc"), false));
}

TEST_CASE("layered: damaged cache entries are rebuilt, never trusted") {
  TempDir t;
  std::string tar = make_tar({{"lib/libx.so", 'f', std::string(5000, 'x')}});
  std::string diff_id = sha256_digest(tar);
  std::string entry = t.str() + "/sha256/" + diff_id.substr(7);
  std::vector<LayerReport> reports;
  cached(t.str(), tar, diff_id, reports);
  const std::string good = slurp(entry);

  SECTION("a damaged header or index is caught when the entry is opened") {
    for (size_t at : {size_t{0}, size_t{20}, good.size() - 3}) {
      std::string bad = good;
      bad[at] ^= 0x40;
      spit(entry, bad);
      // The stack's merged view would spare the index a reading.
      std::filesystem::remove_all(t.str() + "/merged");
      reports.clear();
      auto fs = cached(t.str(), tar, diff_id, reports);
      REQUIRE(reports.size() == 1);
      CHECK(reports[0].repaired);
      CHECK(contents(*fs, "/lib/libx.so") == std::string(5000, 'x'));
      CHECK(slurp(entry) == good);
    }
    spit(entry, good.substr(0, 100));
    reports.clear();
    cached(t.str(), tar, diff_id, reports);
    CHECK(reports.at(0).repaired);
  }
  SECTION("a damaged file under an intact index is caught when it is read") {
    std::string bad = good;
    bad[good.find("xxxx") + 10] = 'y';
    spit(entry, bad);
    reports.clear();
    auto fs = cached(t.str(), tar, diff_id, reports);
    REQUIRE(reports.size() == 1);
    CHECK(reports[0].reused);  // nothing looks wrong until the bytes are read
    CHECK(contents(*fs, "/lib/libx.so") == std::string(5000, 'x'));
    REQUIRE(reports.size() == 2);
    CHECK(reports[1].repaired);
    CHECK(slurp(entry) == good);
  }
}

TEST_CASE("layered: a warm run answers from the stack's merged view, without the indexes") {
  TempDir t;
  std::string one = make_tar({{"etc/motd", 'f', "hello"},
                              {"etc/a", 'f', "a"},
                              {"bin/sh", 'l', "dash"},
                              {"usr/lib/libx.so.1", 'f', "x1"}});
  std::string two =
      make_tar({{"etc/.wh.a", 'f'}, {"etc/b", 'f', "b"}, {"usr/lib/libx.so.1", 'f', "x2"}});
  std::vector<std::string> tars{one, two};
  auto run = [&](bool blobs_readable, std::vector<LayerReport>& reports) {
    std::vector<LayerInput> layers;
    for (size_t i = 0; i < tars.size(); ++i) {
      std::string name = "sha256:l" + std::to_string(i + 1);
      if (blobs_readable)
        layers.push_back(input(name, gzip(tars[i]), sha256_digest(tars[i])));
      else
        layers.push_back({name, sha256_digest(tars[i]),
                          []() -> std::unique_ptr<ByteReader> { throw Error("a blob was read"); }});
    }
    return std::make_unique<LayeredRootFs>("oci:test", layers, directory_layer_store(t.str()),
                                           LayeredLimits{},
                                           [&](const LayerReport& r) { reports.push_back(r); });
  };
  auto check = [](const RootFs& fs) {
    CHECK(contents(fs, "/etc/motd") == "hello");
    CHECK(contents(fs, "/usr/lib/libx.so.1") == "x2");
    CHECK(fs.readlink("/bin/sh") == "dash");
    CHECK(fs.list("/etc") == Names{"b", "motd"});
    CHECK(fs.list("/") == Names{"bin", "etc", "usr"});
    CHECK_FALSE(fs.lstat("/etc/a"));
    CHECK(fs.lstat("//usr/./lib")->type == FileType::Directory);
  };
  std::vector<LayerReport> reports;
  check(*run(true, reports));
  auto merged = std::filesystem::directory_iterator(t.str() + "/merged/sha256");
  REQUIRE(merged != std::filesystem::directory_iterator());
  const std::string view = merged->path().string();
  const std::string good = slurp(view);

  SECTION("no blob is read and no index either: a damaged index goes unnoticed") {
    for (const auto& tar : tars) {
      std::string layer = t.str() + "/sha256/" + sha256_digest(tar).substr(7);
      std::string bytes = slurp(layer);
      bytes[bytes.size() - 3] ^= 0x40;
      spit(layer, bytes);
    }
    reports.clear();
    check(*run(false, reports));
    REQUIRE(reports.size() == 2);
    CHECK((reports[0].reused && reports[1].reused));
  }
  SECTION("a damaged merged view is merged again from the indexes, and kept anew") {
    std::string bad = good;
    bad[bad.size() / 2] ^= 0x01;
    spit(view, bad);
    reports.clear();
    check(*run(false, reports));
    CHECK(reports.size() == 2);
    CHECK(slurp(view) == good);
  }
  SECTION("a layer file gone sends the run the long way, which rebuilds it") {
    std::filesystem::remove(t.str() + "/sha256/" + sha256_digest(two).substr(7));
    CHECK_THROWS_WITH(run(false, reports), Catch::Contains("a blob was read"));
    reports.clear();
    check(*run(true, reports));
    REQUIRE(reports.size() == 2);
    CHECK(reports[0].reused);
    CHECK_FALSE(reports[1].reused);
  }
}

TEST_CASE("merged view: sorted by directory, bounds-checked, damage refused") {
  std::vector<MergedEntry> entries(5);
  const char* paths[] = {"/usr/lib/x", "/", "/usr", "/usr/lib", "/usr/b"};
  for (size_t i = 0; i < entries.size(); ++i) {
    entries[i].path = paths[i];
    entries[i].stat.type = i == 0 ? FileType::Regular : FileType::Directory;
  }
  entries[0].stat.size = 7;
  entries[0].layer = 1;
  entries[0].offset = 512;
  entries[0].crc = 0xdeadbeef;
  entries[4].stat.type = FileType::Symlink;
  entries[4].link = "lib/x";
  const std::string bytes = serialize_merged(entries, 2);
  MergedView view(bytes, "v");
  CHECK(view.size() == 5);
  CHECK(view.children("/usr") == Names{"b", "lib"});
  CHECK(view.children("/") == Names{"usr"});
  CHECK(view.children("/usr/lib/x").empty());
  auto x = view.find("/usr/lib/x");
  REQUIRE(x);
  CHECK((x->layer == 1 && x->offset == 512 && x->crc == 0xdeadbeef && x->stat.size == 7));
  CHECK(view.find("/usr/b")->link == "lib/x");
  CHECK_FALSE(view.find("/usr/lib/y"));
  CHECK_FALSE(view.find("/usr/"));

  // The CRC (bytes 32..35) covers what follows the 40-byte header.
  auto resealed = [](std::string b) {
    uLong crc =
        crc32(0, reinterpret_cast<const Bytef*>(b.data() + 40), static_cast<uInt>(b.size() - 40));
    uint32_t c = static_cast<uint32_t>(crc);
    std::memcpy(b.data() + 32, &c, 4);
    return b;
  };
  CHECK(resealed(bytes) == bytes);
  std::string flipped = bytes;
  flipped[bytes.size() - 2] ^= 1;
  CHECK_THROWS_WITH(MergedView(flipped, "v"), Catch::Contains("checksum mismatch"));
  CHECK_THROWS_WITH(MergedView(bytes.substr(0, bytes.size() - 1), "v"),
                    Catch::Contains("sizes do not add up"));
  std::string far = bytes;
  uint64_t huge = 1ull << 40;
  std::memcpy(far.data() + 40, &huge, 8);  // the first record's path offset
  CHECK_THROWS_WITH(MergedView(resealed(far), "v"), Catch::Contains("points outside"));
  std::string layer = bytes;
  for (size_t r = 0; r < 5; ++r) {
    uint32_t nine = 9;
    std::memcpy(layer.data() + 40 + r * 72 + 24, &nine, 4);  // a layer that is not there
  }
  CHECK_THROWS_WITH(MergedView(resealed(layer), "v"), Catch::Contains("malformed"));
}
