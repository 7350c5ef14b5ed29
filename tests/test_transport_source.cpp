// open_image_source(): images written by dslim's own sinks read back as a
// merged root, and an index resolved to its linux/amd64 manifest.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "dslim/error.hpp"
#include "dslim/image.hpp"
#include "dslim/image_source.hpp"
#include "dslim/layer_writer.hpp"
#include "dslim/reference.hpp"
#include "dslim/rootfs.hpp"
#include "dslim/sink.hpp"
#include "support/temp_dir.hpp"

using namespace dslim;
namespace fs = std::filesystem;

namespace {

// Two layers: a gzip base, then a zstd layer replacing a file and deleting a
// library by whiteout.
Image two_layer_image(const std::string& arch = "amd64", const std::string& env = "A=1") {
  rootfs::MemRootFs src;
  LayerWriter base({.compression = Compression::Gzip});
  base.add_bytes("/etc/hello.txt", "base\n");
  base.add_bytes("/usr/lib/libx.so.1", "x");
  base.add_bytes("/usr/lib/liby.so.1", "y");
  LayerWriter top({.compression = Compression::Zstd});
  top.add_bytes("/etc/hello.txt", "top\n");
  top.add_bytes("/usr/lib/.wh.libx.so.1", "");
  ImageSpec spec;
  spec.platform = {"linux", arch, ""};
  spec.config.env = {"PATH=/bin", env};
  return build_image(spec, {base.finish(), top.finish()});
}

std::string text(const rootfs::RootFs& root, const std::string& path) {
  auto r = rootfs::read_text(root, path);
  return r ? *r : "<absent>";
}

void check_merged(const ImageSource& src) {
  CHECK(text(*src.fs, "/etc/hello.txt") == "top\n");
  CHECK_FALSE(src.fs->lstat("/usr/lib/libx.so.1"));
  CHECK(text(*src.fs, "/usr/lib/liby.so.1") == "y");
  CHECK(src.config.config.env == std::vector<std::string>{"PATH=/bin", "A=1"});
  CHECK(src.config.platform.architecture == "amd64");
  CHECK(src.size > 0);
}

}  // namespace

TEST_CASE("image source: oci:, oci-archive: and docker-archive: give the merged root") {
  test::TempDir t;
  Image img = two_layer_image();
  for (std::string ref : {"oci:" + t.str() + "/layout:v1", "oci-archive:" + t.str() + "/a.tar:v1",
                          "docker-archive:" + t.str() + "/d.tar:team/app:v1"}) {
    INFO(ref);
    write_image(img, parse_reference(ref));
    ImageSource src = open_image_source(parse_reference(ref));
    CHECK(src.fs->describe() == ref);
    check_merged(src);
  }
  // docker-archive names match in Docker's canonical form, as skopeo writes them.
  CHECK_NOTHROW(open_image_source(parse_reference("docker-archive:" + t.str() + "/d.tar")));
}

TEST_CASE("image source: an index gives its linux/amd64 image, never an attestation") {
  test::TempDir t;
  std::string dir = t.str() + "/layout";
  Image amd = two_layer_image("amd64", "A=1");
  Image arm = two_layer_image("arm64", "A=arm");
  write_image(amd, parse_reference("oci:" + dir + ":amd"));
  write_image(arm, parse_reference("oci:" + dir + ":arm"));

  auto add_index = [&](const std::string& tag, std::vector<oci::Descriptor> entries) {
    oci::Index index;
    index.manifests = std::move(entries);
    Blob blob = Blob::from_bytes(oci::media_type::kIndex, oci::to_json(index));
    std::ofstream(dir + "/blobs/sha256/" + blob.digest().substr(7), std::ios::binary)
        << blob.bytes();
    auto top = nlohmann::json::parse(std::ifstream(dir + "/index.json"));
    top["manifests"].push_back({{"mediaType", oci::media_type::kIndex},
                                {"digest", blob.digest()},
                                {"size", blob.size()},
                                {"annotations", {{oci::kRefNameAnnotation, tag}}}});
    std::ofstream(dir + "/index.json") << top.dump();
  };
  oci::Descriptor attestation = arm.manifest_descriptor();
  attestation.platform = oci::Platform{"unknown", "unknown", ""};
  add_index("multi", {attestation, arm.manifest_descriptor(), amd.manifest_descriptor()});
  add_index("armonly", {attestation, arm.manifest_descriptor()});

  ImageSource src = open_image_source(parse_reference("oci:" + dir + ":multi"));
  check_merged(src);
  CHECK_THROWS_WITH(open_image_source(parse_reference("oci:" + dir + ":armonly")),
                    Catch::Contains("no image for linux/amd64 (it has linux/arm64)"));
}

TEST_CASE("image source: a corrupt layer blob is an error naming it") {
  test::TempDir t;
  Image img = two_layer_image();
  std::string dir = t.str() + "/layout";
  write_image(img, parse_reference("oci:" + dir + ":v1"));
  std::string blob = dir + "/blobs/sha256/" + img.layers[0].digest().substr(7);
  fs::permissions(blob, fs::perms::owner_write, fs::perm_options::add);
  {
    std::fstream f(blob, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(20);
    char c = static_cast<char>(f.get() ^ 0x01);
    f.seekp(20);
    f.put(c);
  }
  CHECK_THROWS_WITH(open_image_source(parse_reference("oci:" + dir + ":v1")),
                    Catch::Contains(img.layers[0].digest()));
}
