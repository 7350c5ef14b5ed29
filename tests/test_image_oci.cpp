// OCI model JSON, Image assembly, blob verification, summaries.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "dslim/blob.hpp"
#include "dslim/digest.hpp"
#include "dslim/error.hpp"
#include "dslim/image.hpp"
#include "dslim/image_summary.hpp"
#include "dslim/layer_writer.hpp"
#include "dslim/oci.hpp"
#include "dslim/referrer.hpp"
#include "dslim/rootfs.hpp"
#include "support/fuzz_inputs.hpp"

using namespace dslim;

namespace {

oci::ImageConfig sample_config() {
  oci::ImageConfig c;
  c.platform = {"linux", "arm", "v7"};
  c.created = "1970-01-01T00:00:00Z";
  c.config.entrypoint = {"/app"};
  c.config.cmd = {"--port", "80"};
  c.config.env = {"PATH=/usr/local/bin:/usr/bin:/bin"};
  c.config.user = "65532";
  c.config.working_dir = "/";
  c.config.exposed_ports = {"80/tcp"};
  c.config.labels = {{"b", "2"}, {"a", "1"}};
  c.config.volumes = {"/data", "/var/cache"};
  c.config.stop_signal = "SIGQUIT";
  c.diff_ids = {"sha256:" + std::string(64, 'a')};
  c.history = {{"1970-01-01T00:00:00Z", "dslim", "dslim binary app", false}};
  return c;
}

Image sample_image(int64_t epoch = 0) {
  rootfs::MemRootFs fs;
  fs.add_file("/big", std::string(3000, 'b'), 0755);
  fs.add_file("/small", "s");
  LayerWriter w({.epoch = epoch});
  w.add_file("/app/big", fs, "/big");
  w.add_file("/etc/small", fs, "/small");
  ImageSpec spec;
  spec.platform = {"linux", "amd64", ""};
  spec.config.entrypoint = {"/app/big"};
  spec.epoch = epoch;
  spec.history_comment = "dslim binary big";
  return build_image(spec, {w.finish()});
}

}  // namespace

TEST_CASE("digests") {
  CHECK(sha256_digest("") ==
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(is_sha256_digest("sha256:" + std::string(64, 'f')));
  CHECK_FALSE(is_sha256_digest("sha256:" + std::string(64, 'F')));
  CHECK_FALSE(is_sha256_digest("sha512:" + std::string(64, 'f')));
  CHECK_FALSE(is_sha256_digest("sha256:../../etc/passwd"));
  CHECK_THROWS_WITH(digest_hex("sha256:zz", "blob x"), Catch::Contains("blob x"));
}

TEST_CASE("config JSON is compact, sorted and round-trips") {
  auto c = sample_config();
  std::string j = oci::to_json(c);
  CHECK(j.find('\n') == std::string::npos);
  CHECK(j.find(": ") == std::string::npos);
  CHECK(j.rfind("{\"architecture\":\"arm\",\"config\":{\"Cmd\":", 0) == 0);
  CHECK(j.find("\"ExposedPorts\":{\"80/tcp\":{}}") != std::string::npos);
  CHECK(j.find("\"StopSignal\":\"SIGQUIT\",\"User\"") != std::string::npos);
  CHECK(j.find("\"Volumes\":{\"/data\":{},\"/var/cache\":{}}") != std::string::npos);
  CHECK(j.find("\"rootfs\":{\"diff_ids\":[") != std::string::npos);
  CHECK(j.find("\"type\":\"layers\"") != std::string::npos);
  CHECK(j.find("\"variant\":\"v7\"") != std::string::npos);
  CHECK(oci::parse_config(j, "cfg") == c);
  CHECK(oci::to_json(oci::parse_config(j, "cfg")) == j);
}

TEST_CASE("empty config fields are omitted") {
  oci::ImageConfig c;
  c.platform.architecture = "amd64";
  std::string j = oci::to_json(c);
  CHECK(
      j ==
      R"({"architecture":"amd64","config":{},"os":"linux","rootfs":{"diff_ids":[],"type":"layers"}})");
}

TEST_CASE("manifest and index JSON round-trip") {
  oci::Manifest m;
  m.config = {oci::media_type::kConfig, "sha256:" + std::string(64, 'c'), 12, {}, {}, {}};
  m.layers.push_back(
      {oci::media_type::kLayerGzip, "sha256:" + std::string(64, 'd'), 34, {}, {}, {}});
  std::string j = oci::to_json(m);
  CHECK(j.rfind(R"({"config":{"digest":"sha256:)", 0) == 0);
  CHECK(j.find(R"("schemaVersion":2)") != std::string::npos);
  CHECK(oci::parse_manifest(j, "m") == m);

  oci::Index idx;
  oci::Descriptor d{oci::media_type::kManifest,
                    "sha256:" + std::string(64, 'e'),
                    56,
                    {{oci::kRefNameAnnotation, "latest"}},
                    oci::Platform{"linux", "amd64", ""},
                    {}};
  idx.manifests.push_back(d);
  std::string ij = oci::to_json(idx);
  CHECK(ij.find(R"("annotations":{"org.opencontainers.image.ref.name":"latest"})") !=
        std::string::npos);
  CHECK(ij.find(R"("platform":{"architecture":"amd64","os":"linux"})") != std::string::npos);
  CHECK(oci::parse_index(ij, "i") == idx);
}

TEST_CASE("parsers accept Docker media types and nulls") {
  std::string j =
      R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
    "config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":1,"digest":"sha256:x"},
    "layers":[]})";
  CHECK(oci::parse_manifest(j, "m").media_type == oci::media_type::kDockerManifest);
  auto c = oci::parse_config(
      R"({"architecture":"amd64","os":"linux","config":{"Entrypoint":null,"Cmd":["sh"],"Volumes":null},
          "rootfs":{"type":"layers","diff_ids":[]},"history":[{"created_by":"x","empty_layer":true}]})",
      "c");
  CHECK(c.config.entrypoint.empty());
  CHECK(c.config.cmd == std::vector<std::string>{"sh"});
  CHECK(c.config.volumes.empty());
  CHECK(c.history.at(0).empty_layer);
}

TEST_CASE("malformed JSON and missing fields name the blob") {
  CHECK_THROWS_WITH(oci::parse_manifest("{not json", "manifest sha256:abc"),
                    Catch::Contains("manifest sha256:abc") && Catch::Contains("malformed"));
  CHECK_THROWS_WITH(oci::parse_manifest(R"({"schemaVersion":2,"layers":[]})", "manifest M"),
                    Catch::Contains("manifest M") && Catch::Contains("config"));
  CHECK_THROWS_WITH(
      oci::parse_manifest(
          R"({"schemaVersion":2,"config":{"mediaType":"x","digest":"d"},"layers":[]})",
          "manifest M"),
      Catch::Contains("config.size"));
  CHECK_THROWS_WITH(oci::parse_config(R"({"os":"linux","rootfs":{"diff_ids":[]}})", "config C"),
                    Catch::Contains("config C") && Catch::Contains("architecture"));
  CHECK_THROWS_WITH(oci::parse_index(R"({"schemaVersion":1,"manifests":[]})", "index.json"),
                    Catch::Contains("index.json"));
  CHECK_THROWS_WITH(oci::parse_index(R"([])", "index.json"), Catch::Contains("index.json"));
}

TEST_CASE("rfc3339") {
  CHECK(oci::rfc3339(0) == "1970-01-01T00:00:00Z");
  CHECK(oci::rfc3339(1700000000) == "2023-11-14T22:13:20Z");
}

TEST_CASE("build_image ties config, manifest and layers together") {
  Image img = sample_image(1700000000);
  CHECK(img.config.created == "2023-11-14T22:13:20Z");
  REQUIRE(img.config.history.size() == 1);
  CHECK(img.config.history[0].created_by == "dslim");
  CHECK(img.config.history[0].comment == "dslim binary big");
  CHECK(img.manifest.config.digest == img.config_blob.digest());
  CHECK(img.manifest.config.media_type == oci::media_type::kConfig);
  REQUIRE(img.manifest.layers.size() == 1);
  CHECK(img.manifest.layers[0].digest == img.layers[0].digest());
  CHECK(img.manifest_blob.bytes() == oci::to_json(img.manifest));
  CHECK(oci::parse_config(img.config_blob.bytes(), "c") == img.config);
  auto d = img.manifest_descriptor();
  CHECK(d.platform == oci::Platform{"linux", "amd64", ""});
  CHECK(d.size == img.manifest_blob.size());
  CHECK(img.total_size() ==
        img.config_blob.size() + img.manifest_blob.size() + img.layers[0].size());
}

TEST_CASE("a referrer is an OCI 1.1 artifact naming its image as subject") {
  Image img = sample_image(0);
  Referrer r = build_referrer(img, oci::media_type::kSpdxJson, R"({"spdxVersion":"SPDX-2.3"})",
                              "app.spdx.json", 86400);
  const auto j = nlohmann::json::parse(r.manifest_blob.bytes());
  CHECK(j["artifactType"] == "application/spdx+json");
  CHECK(j["config"]["mediaType"] == "application/vnd.oci.empty.v1+json");
  CHECK(j["config"]["digest"] ==
        "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");  // "{}"
  CHECK(j["config"]["size"] == 2);
  REQUIRE(j["layers"].size() == 1);
  CHECK(j["layers"][0]["mediaType"] == "application/spdx+json");
  CHECK(j["layers"][0]["digest"] == r.content.digest());
  CHECK(j["layers"][0]["annotations"]["org.opencontainers.image.title"] == "app.spdx.json");
  CHECK(j["subject"]["digest"] == img.manifest_blob.digest());
  CHECK(j["subject"]["size"] == img.manifest_blob.size());
  CHECK(j["subject"]["mediaType"] == oci::media_type::kManifest);
  CHECK(j["annotations"]["org.opencontainers.image.created"] == "1970-01-02T00:00:00Z");
  // The parser reads both fields back; the descriptor carries the type.
  CHECK(oci::parse_manifest(r.manifest_blob.bytes(), "r") == r.manifest);
  const auto d = r.descriptor();
  CHECK(d.artifact_type == "application/spdx+json");
  CHECK(d.digest == r.manifest_blob.digest());
  CHECK(d.annotations.at(oci::kCreatedAnnotation) == "1970-01-02T00:00:00Z");
  oci::Index list;
  CHECK(add_referrer(list, d));
  CHECK_FALSE(add_referrer(list, d));  // once each
  CHECK(oci::to_json(list).find(R"("artifactType":"application/spdx+json")") != std::string::npos);
  CHECK(oci::parse_index(oci::to_json(list), "l") == list);
  CHECK(referrers_tag(img.manifest_blob.digest()) ==
        "sha256-" + img.manifest_blob.digest().substr(7));
  // Deterministic: the same inputs, the same manifest.
  CHECK(build_referrer(img, oci::media_type::kSpdxJson, R"({"spdxVersion":"SPDX-2.3"})",
                       "app.spdx.json", 86400)
            .manifest_blob.digest() == r.manifest_blob.digest());
}

TEST_CASE("images are deterministic - the epoch changes the digest") {
  CHECK(sample_image(0).manifest_blob.digest() == sample_image(0).manifest_blob.digest());
  CHECK(sample_image(0).manifest_blob.digest() != sample_image(5).manifest_blob.digest());
}

TEST_CASE("image_from_blobs checks the manifest against the blobs") {
  Image img = sample_image();
  Image back = image_from_blobs(img.manifest_blob, img.config_blob, img.layers, "x");
  CHECK(back.config == img.config);
  CHECK(back.manifest == img.manifest);
  CHECK_THROWS_WITH(image_from_blobs(img.manifest_blob, img.layers[0], img.layers, "img X"),
                    Catch::Contains("img X"));
  CHECK_THROWS_WITH(image_from_blobs(img.manifest_blob, img.config_blob, {}, "img X"),
                    Catch::Contains("img X"));
}

TEST_CASE("Blob::verified rejects a mismatch, naming the digest") {
  Blob b = Blob::from_bytes("t", "hello");
  CHECK(Blob::verified("t", b.digest(), "hello", "w").digest() == b.digest());
  CHECK_THROWS_WITH(Blob::verified("t", b.digest(), "hellp", "where"),
                    Catch::Contains(b.digest()) && Catch::Contains("where"));
}

TEST_CASE("summarize lists files largest first with totals") {
  Image img = sample_image();
  ImageSummary s = summarize(img);
  REQUIRE(s.files.size() == 4);
  CHECK(s.files[0].file.path == "/app/big");
  CHECK(s.files[0].file.size == 3000);
  CHECK(s.files[1].file.path == "/etc/small");
  CHECK(s.file_count == 2);
  CHECK(s.file_bytes == 3001);
  CHECK(s.layer_bytes == img.layers[0].size());
  CHECK(s.image_bytes == img.total_size());
  CHECK(s.manifest_digest == img.manifest_blob.digest());
}

TEST_CASE("fuzz crash inputs are dslim::Error, not a crash", "[oci][fuzz]") {
  for (const auto& path : fuzz_crash_inputs("oci_json")) {
    INFO(path);
    const std::string json = fuzz_input_bytes(path);
    CHECK_THROWS_AS(oci::parse_manifest(json, "m"), Error);
    CHECK_THROWS_AS(oci::parse_index(json, "i"), Error);
    CHECK_THROWS_AS(oci::parse_config(json, "c"), Error);
  }
  // The first such input, made readable: a number past double's range.
  CHECK_THROWS_WITH(oci::parse_manifest(R"({"schemaVersion":2,"size":1e999})", "m"),
                    Catch::Matchers::Contains("m: malformed JSON"));
}
