// Sinks and sources: oci:, oci-archive:, docker-archive:, dir:, checked by
// reading back with dslim and with independent tools (skopeo, umoci, tar).
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "dslim/error.hpp"
#include "dslim/image.hpp"
#include "dslim/image_summary.hpp"
#include "dslim/layer_writer.hpp"
#include "dslim/reference.hpp"
#include "dslim/rootfs.hpp"
#include "dslim/sink.hpp"
#include "dslim/source.hpp"
#include "support/temp_dir.hpp"

using namespace dslim;
namespace fs = std::filesystem;

namespace {

struct TempTree {
  fs::path path;
  TempTree() {
    char tmpl[] = "/tmp/dslim-transport-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempTree() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string operator/(const std::string& rel) const { return (path / rel).string(); }
};

struct RunResult {
  int status;
  std::string out;
};

RunResult run(const std::string& cmd) {
  RunResult r{-1, {}};
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  r.status = pclose(p);
  return r;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Paths below `dir` whose name holds ".tmp-": leftovers of a failed write.
std::vector<std::string> temp_leftovers(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().filename().string().find(".tmp-") != std::string::npos)
      out.push_back(e.path().string());
  return out;
}

Image tiny_image(int64_t epoch = 0, const std::string& payload = "hello from dslim\n") {
  rootfs::MemRootFs src;
  src.add_file("/hello.txt", payload, 0644);
  src.add_file("/app", std::string(4096, 'x'), 0755);
  src.add_symlink("/lib/libx.so.1", "libx.so.1.2.3");
  src.add_file("/lib/libx.so.1.2.3", "lib", 0644);
  LayerWriter w({.epoch = epoch});
  w.add_file("/app", src, "/app");
  w.add_file("/etc/hello.txt", src, "/hello.txt");
  w.add_from("/lib/libx.so.1", src, "/lib/libx.so.1");
  w.add_file("/lib/libx.so.1.2.3", src, "/lib/libx.so.1.2.3");
  w.add_dir("/tmp", {.mode = 01777});
  ImageSpec spec;
  spec.platform = {"linux", "amd64", ""};
  spec.config.entrypoint = {"/app"};
  spec.config.env = {"PATH=/usr/local/bin:/usr/bin:/bin"};
  spec.epoch = epoch;
  spec.history_comment = "test";
  return build_image(spec, {w.finish()});
}

void flip_byte(const fs::path& file, size_t offset) {
  std::string bytes = slurp(file);
  REQUIRE(offset < bytes.size());
  bytes[offset] ^= 0x01;
  std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
}

}  // namespace

TEST_CASE("oci: creates a layout skopeo and umoci read") {
  TempTree t;
  Image img = tiny_image();
  write_image(img, parse_reference("oci:" + (t / "layout") + ":v1"));

  CHECK(slurp(t / "layout/oci-layout") == R"({"imageLayoutVersion":"1.0.0"})");
  auto index = nlohmann::json::parse(slurp(t / "layout/index.json"));
  REQUIRE(index["manifests"].size() == 1);
  CHECK(index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"] == "v1");
  CHECK(index["manifests"][0]["digest"] == img.manifest_blob.digest());
  for (const auto& l : img.layers)
    CHECK(fs::exists(t / ("layout/blobs/sha256/" + l.digest().substr(7))));
  CHECK(temp_leftovers(t.path).empty());

  if (dslim::test::have_tool("skopeo")) {
    auto raw = run("skopeo inspect --raw oci:" + (t / "layout") + ":v1");
    CHECK(raw.status == 0);
    CHECK(raw.out == std::string(img.manifest_blob.bytes()));
    auto info = run("skopeo inspect oci:" + (t / "layout") + ":v1");
    REQUIRE(info.status == 0);
    CHECK(nlohmann::json::parse(info.out)["Architecture"] == "amd64");
  }
  if (dslim::test::have_tool("umoci")) {
    auto st = run("umoci stat --image " + (t / "layout") + ":v1");
    CHECK(st.status == 0);
    INFO(st.out);
    auto un = run("umoci unpack --rootless --image " + (t / "layout") + ":v1 " + (t / "bundle"));
    INFO(un.out);
    REQUIRE(un.status == 0);
    CHECK(slurp(t / "bundle/rootfs/etc/hello.txt") == "hello from dslim\n");
    CHECK(fs::read_symlink(t / "bundle/rootfs/lib/libx.so.1") == "libx.so.1.2.3");
  }
}

TEST_CASE("oci: a second tag keeps the first - re-tagging replaces in place") {
  TempTree t;
  Image a = tiny_image(0);
  Image b = tiny_image(100);
  REQUIRE(a.manifest_blob.digest() != b.manifest_blob.digest());
  std::string dir = t / "layout";
  write_image(a, parse_reference("oci:" + dir + ":one"));
  write_image(b, parse_reference("oci:" + dir + ":two"));
  write_image(b, parse_reference("oci:" + dir));  // default tag "latest"

  auto tags = [&] {
    std::map<std::string, std::string> out;
    auto index = nlohmann::json::parse(slurp(dir + "/index.json"));
    for (const auto& m : index["manifests"])
      out[m["annotations"]["org.opencontainers.image.ref.name"]] = m["digest"];
    return out;
  };
  CHECK(tags() == std::map<std::string, std::string>{{"one", a.manifest_blob.digest()},
                                                     {"two", b.manifest_blob.digest()},
                                                     {"latest", b.manifest_blob.digest()}});
  write_image(b, parse_reference("oci:" + dir + ":one"));
  CHECK(tags().at("one") == b.manifest_blob.digest());
  CHECK(tags().size() == 3);
  CHECK(temp_leftovers(t.path).empty());

  if (dslim::test::have_tool("skopeo")) {
    CHECK(run("skopeo inspect --raw oci:" + dir + ":two").out ==
          std::string(b.manifest_blob.bytes()));
    CHECK(run("skopeo inspect --raw oci:" + dir + ":latest").status == 0);
  }
  CHECK(load_image(parse_reference("oci:" + dir + ":two")).manifest_blob.digest() ==
        b.manifest_blob.digest());
}

TEST_CASE("oci: into an empty directory works - into a foreign one is refused") {
  TempTree t;
  fs::create_directories(t / "empty");
  write_image(tiny_image(), parse_reference("oci:" + (t / "empty/")));
  CHECK(fs::exists(t / "empty/index.json"));

  fs::create_directories(t / "mine");
  std::ofstream(t / "mine/notes.txt") << "keep me";
  CHECK_THROWS_WITH(write_image(tiny_image(), parse_reference("oci:" + (t / "mine"))),
                    Catch::Contains("oci:" + (t / "mine")) && Catch::Contains("not an OCI"));
  CHECK(slurp(t / "mine/notes.txt") == "keep me");
}

TEST_CASE("oci-archive: a deterministic tar skopeo reads") {
  TempTree t;
  Image img = tiny_image();
  write_image(img, parse_reference("oci-archive:" + (t / "img.tar") + ":1.0"));
  std::string first = slurp(t / "img.tar");
  write_image(img, parse_reference("oci-archive:" + (t / "img.tar") + ":1.0"));
  CHECK(slurp(t / "img.tar") == first);
  CHECK(temp_leftovers(t.path).empty());
  if (dslim::test::have_tool("skopeo")) {
    auto raw = run("skopeo inspect --raw oci-archive:" + (t / "img.tar") + ":1.0");
    CHECK(raw.status == 0);
    CHECK(raw.out == std::string(img.manifest_blob.bytes()));
  }
  if (dslim::test::have_tool("tar")) {
    auto list = run("tar -tf " + (t / "img.tar"));
    CHECK(list.out.find("oci-layout") != std::string::npos);
    CHECK(list.out.find("index.json") != std::string::npos);
  }
}

TEST_CASE("docker-archive: manifest.json, repositories and an OCI layout in one tar") {
  TempTree t;
  Image img = tiny_image();
  std::string file = t / "app.tar";
  write_image(img, parse_reference("docker-archive:" + file + ":team/app:1.4"));
  CHECK(temp_leftovers(t.path).empty());
  if (dslim::test::have_tool("tar")) {
    auto manifest = nlohmann::json::parse(run("tar -xOf " + file + " manifest.json").out);
    REQUIRE(manifest.size() == 1);
    CHECK(manifest[0]["RepoTags"] == nlohmann::json::array({"team/app:1.4"}));
    CHECK(manifest[0]["Config"] == "blobs/sha256/" + img.config_blob.digest().substr(7));
    CHECK(manifest[0]["Layers"][0] == "blobs/sha256/" + img.layers[0].digest().substr(7));
    auto repos = nlohmann::json::parse(run("tar -xOf " + file + " repositories").out);
    CHECK(repos.contains("team/app"));
  }
  if (dslim::test::have_tool("skopeo")) {
    auto info = run("skopeo inspect docker-archive:" + file);
    INFO(info.out);
    REQUIRE(info.status == 0);
    CHECK(nlohmann::json::parse(info.out)["Architecture"] == "amd64");
    CHECK(run("skopeo inspect docker-archive:" + file + ":team/app:1.4").status == 0);
    // The same file as an OCI archive.
    CHECK(run("skopeo inspect --raw oci-archive:" + file + ":1.4").out ==
          std::string(img.manifest_blob.bytes()));
  }
  // Untagged.
  write_image(img, parse_reference("docker-archive:" + (t / "untagged.tar")));
  if (dslim::test::have_tool("skopeo"))
    CHECK(run("skopeo inspect docker-archive:" + (t / "untagged.tar")).status == 0);
}

TEST_CASE("dir: unpacks the rootfs - refuses a populated directory") {
  TempTree t;
  Image img = tiny_image();
  write_image(img, parse_reference("dir:" + (t / "root")));
  CHECK(slurp(t / "root/etc/hello.txt") == "hello from dslim\n");
  CHECK(fs::read_symlink(t / "root/lib/libx.so.1") == "libx.so.1.2.3");
  struct stat st;
  REQUIRE(::stat((t / "root/app").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0755);
  REQUIRE(::stat((t / "root/tmp").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 01777);
  CHECK(temp_leftovers(t.path).empty());

  CHECK_THROWS_WITH(write_image(img, parse_reference("dir:" + (t / "root"))),
                    Catch::Contains("not an empty directory"));
  fs::create_directories(t / "empty");
  write_image(img, parse_reference("dir:" + (t / "empty")));
  CHECK(fs::exists(t / "empty/app"));
}

TEST_CASE("a failed write leaves no temp files and the old output intact") {
  TempTree t;
  Image a = tiny_image(0);
  Image b = tiny_image(0, "other payload\n");
  std::string dir = t / "layout";
  write_image(a, parse_reference("oci:" + dir + ":one"));
  std::string index_before = slurp(dir + "/index.json");
  // Make b's layer path unwritable: a directory where the blob must go.
  fs::create_directories(dir + "/blobs/sha256/" + b.layers[0].digest().substr(7) + "/x");
  CHECK_THROWS_WITH(write_image(b, parse_reference("oci:" + dir + ":two")),
                    Catch::Contains("oci:" + dir + ":two"));
  CHECK(slurp(dir + "/index.json") == index_before);
  CHECK_FALSE(fs::exists(dir + "/blobs/sha256/" + b.config_blob.digest().substr(7)));
  CHECK(temp_leftovers(t.path).empty());

  // An archive whose name is taken by a directory cannot be renamed into place.
  fs::create_directories(t / "busy.tar/x");
  CHECK_THROWS_WITH(write_image(a, parse_reference("oci-archive:" + (t / "busy.tar"))),
                    Catch::Contains("busy.tar"));
  CHECK_THROWS(write_image(a, parse_reference("docker-archive:" + (t / "busy.tar"))));
  CHECK(temp_leftovers(t.path).empty());

  // A destination that cannot be created at all.
  CHECK_THROWS_AS(write_image(a, parse_reference("oci:/proc/dslim-no/x")), Error);
  if (::geteuid() != 0) {
    fs::create_directories(t / "ro");
    fs::permissions(t / "ro", fs::perms(0555));
    CHECK_THROWS_WITH(write_image(a, parse_reference("oci:" + (t / "ro/layout"))),
                      Catch::Contains("ro/layout"));
    CHECK_THROWS(write_image(a, parse_reference("oci-archive:" + (t / "ro/x.tar"))));
    fs::permissions(t / "ro", fs::perms(0755));
    CHECK(temp_leftovers(t.path).empty());
  }
}

TEST_CASE("inspect reads back every form") {
  TempTree t;
  Image img = tiny_image();
  std::vector<std::string> refs = {"oci:" + (t / "l") + ":x", "oci-archive:" + (t / "o.tar") + ":x",
                                   "docker-archive:" + (t / "d.tar") + ":app:x"};
  for (const auto& text : refs) {
    INFO(text);
    Reference ref = parse_reference(text);
    write_image(img, ref);
    Image back = load_image(ref);
    CHECK(back.config == img.config);
    CHECK(back.config_blob.digest() == img.config_blob.digest());
    REQUIRE(back.layers.size() == 1);
    CHECK(back.layers[0].digest() == img.layers[0].digest());
    CHECK(back.layers[0].media_type() == img.layers[0].media_type());
    if (ref.transport != Transport::DockerArchive)
      CHECK(back.manifest_blob.digest() == img.manifest_blob.digest());
    ImageSummary s = summarize(back);
    REQUIRE(!s.files.empty());
    CHECK(s.files[0].file.path == "/app");
    CHECK(s.file_count == 3);
    CHECK(s.file_bytes == 4096 + 17 + 3);
  }
  // Without a tag: the only image.
  CHECK(load_image(parse_reference("oci:" + (t / "l"))).manifest_blob.digest() ==
        img.manifest_blob.digest());
  CHECK(load_image(parse_reference("docker-archive:" + (t / "d.tar"))).layers.size() == 1);
  CHECK_THROWS_WITH(load_image(parse_reference("oci:" + (t / "l") + ":nope")),
                    Catch::Contains("nope"));
  write_image(tiny_image(7), parse_reference("oci:" + (t / "l") + ":y"));
  CHECK_THROWS_WITH(load_image(parse_reference("oci:" + (t / "l"))), Catch::Contains("2 images"));
  CHECK_THROWS_AS(load_image(parse_reference("dir:/")), Error);
  CHECK_THROWS_WITH(load_image(parse_reference("oci:" + (t / "missing"))),
                    Catch::Contains("missing"));
}

TEST_CASE("a flipped byte in a blob is a digest mismatch naming the blob") {
  TempTree t;
  Image img = tiny_image();
  const std::string layer = img.layers[0].digest();

  write_image(img, parse_reference("oci:" + (t / "l")));
  flip_byte(t / ("l/blobs/sha256/" + layer.substr(7)), 20);
  // Layers are checked while they are read, not when the image is opened.
  CHECK_THROWS_WITH(load_image(parse_reference("oci:" + (t / "l"))).layers[0].bytes(),
                    Catch::Contains(layer));

  // In archives, find the layer's bytes inside the tar and flip one.
  for (std::string text : {"oci-archive:" + (t / "o.tar"), "docker-archive:" + (t / "d.tar")}) {
    INFO(text);
    Reference ref = parse_reference(text);
    write_image(img, ref);
    std::string bytes = slurp(ref.path);
    size_t at = bytes.find(std::string(img.layers[0].bytes()));
    REQUIRE(at != std::string::npos);
    flip_byte(ref.path, at + 20);
    CHECK_THROWS_WITH(load_image(ref).layers[0].bytes(), Catch::Contains(layer));
  }

  // The config too.
  write_image(img, parse_reference("oci:" + (t / "c")));
  flip_byte(t / ("c/blobs/sha256/" + img.config_blob.digest().substr(7)), 5);
  CHECK_THROWS_WITH(load_image(parse_reference("oci:" + (t / "c"))),
                    Catch::Contains(img.config_blob.digest()));
}
