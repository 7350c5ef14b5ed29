// What goes beside or over an image: SBOMs attached to it (OCI 1.1
// referrers), beside it in a layout, in a registry by its referrers API or
// under the distribution spec's sha256-<hex> fallback tag; and an index over
// images of several platforms.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "dslim/error.hpp"
#include "dslim/image.hpp"
#include "dslim/layer_writer.hpp"
#include "dslim/reference.hpp"
#include "dslim/referrer.hpp"
#include "dslim/registry_client.hpp"
#include "dslim/rootfs.hpp"
#include "dslim/sink.hpp"
#include "dslim/source.hpp"
#include "support/registry_server.hpp"
#include "support/temp_dir.hpp"

using namespace dslim;
using namespace dslim::test;
using nlohmann::json;

namespace {

Image small_image(const std::string& payload = "hello\n") {
  rootfs::MemRootFs src;
  src.add_file("/app", payload, 0755);
  LayerWriter w(LayerOptions{});
  w.add_file("/app", src, "/app");
  ImageSpec spec;
  spec.platform = {"linux", "amd64", ""};
  spec.config.entrypoint = {"/app"};
  return build_image(spec, {w.finish()});
}

std::vector<Referrer> sboms(const Image& image, const std::string& tag = "a") {
  return {build_referrer(image, oci::media_type::kSpdxJson, R"({"spdx":")" + tag + "\"}",
                         "app.spdx.json", 0),
          build_referrer(image, oci::media_type::kCycloneDxJson, R"({"cdx":")" + tag + "\"}",
                         "app.cdx.json", 0)};
}

void check_attached(const std::vector<Attachment>& found, const std::vector<Referrer>& want) {
  REQUIRE(found.size() == want.size());
  for (const auto& r : want) {
    bool seen = false;
    for (const auto& a : found)
      if (a.manifest_digest == r.manifest_blob.digest()) {
        seen = true;
        CHECK(a.artifact_type == r.manifest.artifact_type);
        CHECK(a.content == r.content.bytes());
      }
    CHECK(seen);
  }
}

}  // namespace

TEST_CASE("oci: and oci-archive: list the SBOMs untagged beside the image") {
  TempDir t;
  const Image img = small_image();
  const auto refs = sboms(img);
  for (const std::string& form : {"oci:" + (t.path() / "layout").string(),
                                  "oci-archive:" + (t.path() / "img.tar").string()}) {
    INFO(form);
    const Reference ref = parse_reference(form + ":1.0");
    write_image(img, ref, {}, refs);
    write_image(img, ref, {}, refs);  // again: no second entry
    check_attached(read_referrers(ref, img.manifest_blob.digest()), refs);
    // The layout's only *image* is still found without a tag.
    CHECK(load_image(parse_reference(form)).manifest_blob.digest() == img.manifest_blob.digest());
    // Another image's referrers are not this one's.
    CHECK(read_referrers(ref, small_image("other\n").manifest_blob.digest()).empty());
  }
  const json index = json::parse(read_file_text(t.path() / "layout/index.json"));
  REQUIRE(index["manifests"].size() == 3);
  int artifacts = 0;
  for (const auto& m : index["manifests"]) {
    if (!m.contains("artifactType")) continue;
    ++artifacts;
    const bool tagged =
        m.contains("annotations") && m["annotations"].contains("org.opencontainers.image.ref.name");
    CHECK_FALSE(tagged);
  }
  CHECK(artifacts == 2);
  // umoci lists the tag only, and skopeo copies the image out of it.
  if (have_tool("umoci")) CHECK(run("umoci ls --layout " + t.str() + "/layout") == "1.0\n");
}

TEST_CASE("an index over two platforms is written whole and read per platform") {
  TempDir t;
  Image amd = small_image("amd\n");
  Image arm = small_image("arm\n");
  arm.config.platform = {"linux", "arm64", "v8"};
  // build_index takes each image's platform from its config, as built.
  const ImageIndex index = build_index({amd, arm});
  REQUIRE(index.index.manifests.size() == 2);
  CHECK(index.index.manifests[1].platform == oci::Platform{"linux", "arm64", "v8"});
  CHECK(index.total_size() == index.index_blob.size() + amd.total_size() + arm.total_size());
  CHECK_THROWS_AS(build_index({amd, amd}), Error);
  for (const std::string& form :
       {"oci:" + t.str() + "/layout", "oci-archive:" + t.str() + "/i.tar"}) {
    INFO(form);
    const Reference ref = parse_reference(form + ":multi");
    CHECK(write_index(index, ref) == index.index_blob.digest());
    const auto read = read_index(ref);
    REQUIRE(read);
    CHECK(*read == index.index);
    CHECK(load_image(ref, {"linux", "arm64", ""}).manifest_blob.digest() ==
          arm.manifest_blob.digest());
    CHECK(load_image(ref).manifest_blob.digest() == amd.manifest_blob.digest());
  }
  // A tag naming a single image is no index.
  write_image(amd, parse_reference("oci:" + t.str() + "/layout:one"));
  CHECK_FALSE(read_index(parse_reference("oci:" + t.str() + "/layout:one")));
  for (const std::string& form : {"docker-archive:" + t.str() + "/d.tar", "dir:" + t.str() + "/r"})
    CHECK_THROWS_WITH(write_index(index, parse_reference(form)),
                      Catch::Contains("holds one image, not an index"));
}

TEST_CASE("docker-archive: and dir: cannot hold referrers and write nothing") {
  TempDir t;
  const Image img = small_image();
  for (const std::string& form :
       {"docker-archive:" + (t.path() / "d.tar").string(), "dir:" + (t.path() / "root").string()}) {
    INFO(form);
    try {
      write_image(img, parse_reference(form), {}, sboms(img));
      FAIL("written");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::Usage);
      CHECK_THAT(e.what(), Catch::Contains("cannot hold an SBOM attached"));
    }
  }
  CHECK(std::filesystem::is_empty(t.path()));
}

TEST_CASE("a registry with the referrers API indexes them itself: no fallback tag") {
  test::have_tool("curl");
  ScriptServer server("referrers_registry.py");
  const Image img = small_image();
  const Reference ref = parse_reference("docker://" + server.host() + "/team/app:1.0");
  const auto refs = sboms(img);
  write_image(img, ref, {}, refs);
  registry::RegistryClient client(server.host(), "team/app");
  const auto list = client.referrers(img.manifest_blob.digest());
  REQUIRE(list);
  CHECK(json::parse(*list)["manifests"].size() == 2);
  check_attached(read_referrers(ref, img.manifest_blob.digest()), refs);
  // Only the image's tag was pushed: the OCI-Subject answer made the
  // sha256-<hex> list needless.
  CHECK(json::parse(server.stats())["tags"] == json::array({"1.0"}));
}

TEST_CASE("a registry without the referrers API lists them under the sha256- tag") {
  RegistryServer server;
  const Image img = small_image();
  const Reference ref = parse_reference("docker://" + server.host() + "/team/app:1.0");
  const auto first = sboms(img, "a");
  write_image(img, ref, {}, {first[0]});
  registry::RegistryClient client(server.host(), "team/app");
  // Debian's registry (distribution 2.8) has no referrers API: 404.
  CHECK_FALSE(client.referrers(img.manifest_blob.digest()));
  const std::string tag = "sha256-" + img.manifest_blob.digest().substr(7);
  auto list = client.get_manifest(tag);
  CHECK(list.media_type == oci::media_type::kIndex);
  json j = json::parse(list.bytes);
  REQUIRE(j["manifests"].size() == 1);
  CHECK(j["manifests"][0]["digest"] == first[0].manifest_blob.digest());
  CHECK(j["manifests"][0]["artifactType"] == "application/spdx+json");
  // The artifact's manifest names the image as subject.
  json artifact = json::parse(client.get_manifest(first[0].manifest_blob.digest()).bytes);
  CHECK(artifact["subject"]["digest"] == img.manifest_blob.digest());

  // Another push adds to the list (merged, not replaced); a repeat adds nothing.
  const auto second = sboms(img, "b");
  write_image(img, ref, {}, second);
  write_image(img, ref, {}, second);
  j = json::parse(client.get_manifest(tag).bytes);
  CHECK(j["manifests"].size() == 3);
  check_attached(read_referrers(ref, img.manifest_blob.digest()), {first[0], second[0], second[1]});
  // An image with none has none.
  const Image bare = small_image("bare\n");
  write_image(bare, parse_reference("docker://" + server.host() + "/team/app:bare"));
  CHECK(read_referrers(ref, bare.manifest_blob.digest()).empty());
}
