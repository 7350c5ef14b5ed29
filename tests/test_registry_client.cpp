// RegistryClient against a real docker-registry on 127.0.0.1: push and pull,
// Basic auth, TLS through a cert dir, faults and digest checks.
#include <catch2/catch.hpp>
#include <cstring>
#include <fstream>
#include <random>

#include "dslim/digest.hpp"
#include "dslim/error.hpp"
#include "dslim/registry_client.hpp"
#include "support/registry_server.hpp"
#include "support/temp_dir.hpp"

using namespace dslim;
using namespace dslim::registry;
using dslim::test::RegistryServer;
using dslim::test::TempDir;

namespace {

constexpr const char* kOciManifest = "application/vnd.oci.image.manifest.v1+json";

std::string random_bytes(size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(gen());
  return s;
}

BlobReader reader(const std::string& bytes) {
  return [&bytes](uint64_t offset, char* buf, size_t n) {
    size_t len = std::min<size_t>(n, bytes.size() - offset);
    std::memcpy(buf, bytes.data() + offset, len);
    return len;
  };
}

std::string pull(RegistryClient& c, const std::string& digest, uint64_t size) {
  std::string out;
  c.get_blob(digest, size, [&](std::string_view chunk) { out.append(chunk); });
  return out;
}

// A small image: config, one layer and the manifest naming them.
struct TestImage {
  std::string config =
      R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}})";
  std::string layer;
  std::string manifest;
  explicit TestImage(size_t layer_size = 300000) : layer(random_bytes(layer_size, 7)) {
    manifest =
        std::string(R"({"schemaVersion":2,"mediaType":")") + kOciManifest +
        R"(","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
        sha256_digest(config) + R"(","size":)" + std::to_string(config.size()) +
        R"(},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":")" +
        sha256_digest(layer) + R"(","size":)" + std::to_string(layer.size()) + "}]}";
  }
  std::string push(RegistryClient& c, const std::string& tag) const {
    for (const std::string* b : {&config, &layer})
      if (!c.has_blob(sha256_digest(*b))) c.put_blob(sha256_digest(*b), b->size(), reader(*b));
    return c.put_manifest(tag, kOciManifest, manifest).digest;
  }
  std::string push(RegistryClient&& c, const std::string& tag) const { return push(c, tag); }
};

// Fast retries for tests that fail on purpose.
RegistryOptions quick(RegistryOptions o = {}) {
  o.attempts = 3;
  o.first_backoff = std::chrono::milliseconds(20);
  return o;
}

Error error_from(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  FAIL("no error");
  return Error("");
}

}  // namespace

TEST_CASE("push blobs and a manifest, then pull them back by tag and by digest") {
  RegistryServer server;
  std::vector<std::string> log;
  RegistryOptions o;
  o.log = [&](const std::string& line) { log.push_back(line); };
  uint64_t last_done = 0, last_total = 0;
  o.progress = [&](const std::string&, uint64_t done, uint64_t total) {
    last_done = done;
    last_total = total;
  };
  RegistryClient c(server.host(), "team/app", o);
  TestImage img;
  std::string layer_digest = sha256_digest(img.layer);
  CHECK_FALSE(c.has_blob(layer_digest));
  std::string digest = img.push(c, "1.0");
  CHECK(digest == sha256_digest(img.manifest));
  CHECK(c.has_blob(layer_digest));
  CHECK(last_done == img.layer.size());

  FetchedManifest m = c.get_manifest("1.0");
  CHECK(m.bytes == img.manifest);
  CHECK(m.digest == digest);
  CHECK(m.media_type == kOciManifest);
  CHECK(c.get_manifest(digest).bytes == img.manifest);

  last_done = 0;
  CHECK(pull(c, layer_digest, img.layer.size()) == img.layer);
  CHECK(last_done == img.layer.size());
  CHECK(last_total == img.layer.size());
  CHECK(pull(c, sha256_digest(img.config), img.config.size()) == img.config);

  // A second push finds every blob there and uploads none.
  size_t posts_before = std::count_if(log.begin(), log.end(),
                                      [](const std::string& l) { return l.rfind("POST", 0) == 0; });
  img.push(RegistryClient(server.host(), "team/app", o), "1.1");
  size_t posts_after = std::count_if(log.begin(), log.end(),
                                     [](const std::string& l) { return l.rfind("POST", 0) == 0; });
  CHECK(posts_after == posts_before);
  CHECK(RegistryClient(server.host(), "team/app").get_manifest("1.1").digest == digest);

  // Plain http was chosen for the loopback registry, and the log names it.
  std::string blob_get = "GET http://" + server.host() + "/v2/team/app/blobs/";
  CHECK(std::any_of(log.begin(), log.end(),
                    [&](const std::string& l) { return l.rfind(blob_get, 0) == 0; }));
}

TEST_CASE("a missing manifest and a malformed reference are clear errors") {
  RegistryServer server;
  RegistryClient c(server.host(), "team/app", quick());
  Error e = error_from([&] { c.get_manifest("nope"); });
  CHECK(e.kind() == ErrorKind::Network);
  CHECK_THAT(e.what(), Catch::Contains(server.host() + "/team/app: GET manifest nope: 404"));
  CHECK_THAT(e.what(), Catch::Contains("manifest unknown"));
  CHECK(error_from([&] { c.get_manifest("bad tag"); }).kind() == ErrorKind::Usage);
}

TEST_CASE("Basic auth with htpasswd: right and wrong password") {
  if (!test::have_tool("htpasswd")) return;
  TempDir tmp;
  std::string htpasswd = (tmp.path() / "htpasswd").string();
  test::run("htpasswd -Bbn alice 's3cret-pw' > '" + htpasswd + "'");
  test::RegistryServerOptions auth;
  auth.htpasswd = htpasswd;
  RegistryServer server(auth);
  TestImage img;

  RegistryOptions good = quick();
  good.creds = "alice:s3cret-pw";
  std::vector<std::string> log;
  good.log = [&](const std::string& line) { log.push_back(line); };
  RegistryClient ok(server.host(), "team/app", good);
  std::string digest = img.push(ok, "1.0");
  CHECK(ok.get_manifest("1.0").digest == digest);
  for (const auto& line : log) CHECK(line.find("s3cret") == std::string::npos);

  // The same credentials through a containers auth file.
  std::string auth_file = (tmp.path() / "auth.json").string();
  std::ofstream(auth_file) << R"({"auths":{")" << server.host()
                           << R"(":{"auth":"YWxpY2U6czNjcmV0LXB3"}}})";  // alice:s3cret-pw
  setenv("REGISTRY_AUTH_FILE", auth_file.c_str(), 1);
  CHECK(RegistryClient(server.host(), "team/app", quick()).get_manifest("1.0").digest == digest);

  RegistryOptions bad = quick();
  bad.creds = "alice:wrong-pw";
  Error e = error_from([&] { RegistryClient(server.host(), "team/app", bad).get_manifest("1.0"); });
  CHECK(e.kind() == ErrorKind::Network);
  CHECK_THAT(e.what(), Catch::Contains("GET manifest 1.0: 401 Unauthorized with credentials from "
                                       "--creds for " +
                                       server.host()));
  CHECK_THAT(e.what(), !Catch::Contains("wrong-pw"));

  std::ofstream(auth_file) << "{}";
  e = error_from([&] { RegistryClient(server.host(), "team/app", quick()).get_manifest("1.0"); });
  CHECK_THAT(e.what(), Catch::Contains("401 Unauthorized anonymously, no credentials (none for " +
                                       server.host() + " in " + auth_file + ")"));
  unsetenv("REGISTRY_AUTH_FILE");
}

TEST_CASE("TLS with a private CA through cert_dir, and failure without it") {
  if (!test::have_tool("openssl")) return;
  TempDir tmp;
  auto tls = test::make_test_tls(tmp.path());
  test::RegistryServerOptions https;
  https.tls_cert = tls.server_cert;
  https.tls_key = tls.server_key;
  RegistryServer server(https);
  std::filesystem::create_directory(tmp.path() / "certs");
  std::filesystem::copy_file(tls.ca_cert, tmp.path() / "certs/ca.crt");

  RegistryOptions with_ca = quick();
  with_ca.cert_dir = (tmp.path() / "certs").string();
  std::vector<std::string> log;
  with_ca.log = [&](const std::string& line) { log.push_back(line); };
  TestImage img;
  std::string digest = img.push(RegistryClient(server.host(), "team/app", with_ca), "1.0");
  CHECK_THAT(log.back(), Catch::StartsWith("PUT https://" + server.host()));

  // Without the CA: refused at once (not retried), and no fallback to http.
  Error e =
      error_from([&] { RegistryClient(server.host(), "team/app", quick()).get_manifest("1.0"); });
  CHECK(e.kind() == ErrorKind::Network);
  CHECK_THAT(e.what(), Catch::Contains("TLS certificate not trusted"));
  CHECK_THAT(e.what(), Catch::Contains("--cert-dir"));
  CHECK_THAT(e.what(), !Catch::Contains("attempts"));

  RegistryOptions insecure = quick();
  insecure.tls_verify = false;
  CHECK(RegistryClient(server.host(), "team/app", insecure).get_manifest("1.0").digest == digest);

  RegistryOptions missing = quick();
  missing.cert_dir = (tmp.path() / "nowhere").string();
  CHECK(error_from([&] { RegistryClient(server.host(), "team/app", missing); }).kind() ==
        ErrorKind::Usage);
}

TEST_CASE("a registry that is not running: retried, then a network error") {
  int port = test::free_port();
  std::vector<std::string> log;
  RegistryOptions o = quick();
  o.log = [&](const std::string& line) { log.push_back(line); };
  std::string digest = "sha256:" + std::string(64, 'a');
  Error e = error_from([&] {
    RegistryClient("127.0.0.1:" + std::to_string(port), "team/app", o)
        .get_blob(digest, 1, [](std::string_view) {});
  });
  CHECK(e.kind() == ErrorKind::Network);
  CHECK(std::string(e.what()) == "127.0.0.1:" + std::to_string(port) + "/team/app: GET blob " +
                                     digest + ": connection refused after 3 attempts");
  CHECK(std::count_if(log.begin(), log.end(),
                      [](const std::string& l) { return l.rfind("retrying", 0) == 0; }) == 2);
}

TEST_CASE("a registry killed mid-transfer: the blob resumes after a restart, or fails cleanly") {
  RegistryServer server;
  TestImage img(48u << 20);
  std::string layer = sha256_digest(img.layer);
  img.push(RegistryClient(server.host(), "team/app"), "1.0");

  std::vector<std::string> log;
  RegistryOptions o = quick();
  o.log = [&](const std::string& line) { log.push_back(line); };
  bool killed = false;
  o.progress = [&](const std::string&, uint64_t done, uint64_t) {
    if (!killed && done > (1u << 20)) {
      killed = true;
      server.kill();
      server.start();
    }
  };
  RegistryClient c(server.host(), "team/app", o);
  CHECK(pull(c, layer, img.layer.size()) == img.layer);
  CHECK(killed);
  CHECK(std::any_of(log.begin(), log.end(),
                    [](const std::string& l) { return l.rfind("retrying GET blob", 0) == 0; }));
  // Resumed with a Range request, not fetched again from the start.
  CHECK(std::any_of(log.begin(), log.end(),
                    [](const std::string& l) { return l.find(" 206 ") != std::string::npos; }));

  killed = false;
  o.progress = [&](const std::string&, uint64_t done, uint64_t) {
    if (!killed && done > (1u << 20)) {
      killed = true;
      server.kill();
    }
  };
  Error e = error_from([&] {
    pull(*std::make_unique<RegistryClient>(server.host(), "team/app", o), layer, img.layer.size());
  });
  CHECK(e.kind() == ErrorKind::Network);
  CHECK_THAT(e.what(), Catch::Contains("GET blob " + layer + ": "));
  CHECK_THAT(e.what(), Catch::EndsWith("after 3 attempts"));
}

TEST_CASE("content that does not match its digest is refused") {
  RegistryServer server;
  TestImage img;
  RegistryClient c(server.host(), "team/app", quick());
  std::string manifest_digest = img.push(c, "1.0");
  std::string layer = sha256_digest(img.layer);

  // Same size, other bytes: only the digest can tell.
  std::string corrupt = img.layer;
  corrupt[corrupt.size() / 2] ^= 1;
  std::ofstream(server.blob_data(layer), std::ios::binary) << corrupt;
  Error e = error_from([&] { pull(c, layer, img.layer.size()); });
  CHECK(e.kind() == ErrorKind::Input);
  CHECK_THAT(e.what(), Catch::Contains("blob " + layer + " has content " + sha256_digest(corrupt)));

  std::ofstream(server.blob_data(layer), std::ios::binary) << img.layer << "more";
  e = error_from([&] { pull(c, layer, img.layer.size()); });
  CHECK(e.kind() == ErrorKind::Input);
  CHECK_THAT(e.what(), Catch::Contains("is larger than its"));

  // Still valid JSON, which the registry parses before serving it.
  std::string bad_manifest = img.manifest + "\n";
  std::ofstream(server.blob_data(manifest_digest), std::ios::binary) << bad_manifest;
  e = error_from([&] { c.get_manifest(manifest_digest); });
  CHECK(e.kind() == ErrorKind::Input);
  CHECK_THAT(e.what(), Catch::Contains("GET manifest " + manifest_digest + ": the content is"));
  e = error_from([&] { c.get_manifest("1.0"); });
  CHECK(e.kind() == ErrorKind::Input);
  CHECK_THAT(e.what(), Catch::Contains("the registry says " + manifest_digest));

  // Pushing bytes under another blob's digest: the registry refuses them.
  std::string other = "not the layer";
  e = error_from([&] { c.put_blob(layer, other.size(), reader(other)); });
  CHECK_THAT(e.what(), Catch::Contains("PUT blob " + layer + ": 400"));
}
