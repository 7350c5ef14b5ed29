// Registry auth: WWW-Authenticate parsing, where credentials are found, and
// the Bearer token flow against a fake token service on 127.0.0.1.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "dslim/error.hpp"
#include "dslim/registry_client.hpp"
#include "dslim/registry_credentials.hpp"
#include "registry/base64.hpp"
#include "registry/www_authenticate.hpp"
#include "support/registry_server.hpp"
#include "support/temp_dir.hpp"

using namespace dslim;
using namespace dslim::registry;
using dslim::test::TempDir;

namespace {

// Sets environment variables for one test and puts the old values back.
class ScopedEnv {
 public:
  ScopedEnv(std::initializer_list<std::pair<const char*, std::optional<std::string>>> vars) {
    for (const auto& [name, value] : vars) {
      const char* old = std::getenv(name);
      saved_[name] = old ? std::optional<std::string>(old) : std::nullopt;
      if (value)
        setenv(name, value->c_str(), 1);
      else
        unsetenv(name);
    }
  }
  ~ScopedEnv() {
    for (const auto& [name, value] : saved_) {
      if (value)
        setenv(name.c_str(), value->c_str(), 1);
      else
        unsetenv(name.c_str());
    }
  }

 private:
  std::map<std::string, std::optional<std::string>> saved_;
};

// A home with no credentials anywhere, and nothing from the caller's env.
struct CleanHome {
  TempDir home;
  ScopedEnv env{{"HOME", home.str()},
                {"REGISTRY_AUTH_FILE", std::nullopt},
                {"DOCKER_CONFIG", std::nullopt},
                {"XDG_RUNTIME_DIR", std::nullopt},
                {"XDG_CONFIG_HOME", std::nullopt}};
  std::string docker_config(const std::string& json) {
    std::filesystem::create_directories(home.path() / ".docker");
    std::string path = (home.path() / ".docker/config.json").string();
    std::ofstream(path) << json;
    return path;
  }
};

// tests/support/fake_token_registry.py on a free port.
class FakeTokenRegistry {
 public:
  explicit FakeTokenRegistry(int expires_in = 300)
      : server_("fake_token_registry.py", {std::to_string(expires_in)}) {}
  std::string host() const { return server_.host(); }
  nlohmann::json stats() const { return nlohmann::json::parse(server_.stats()); }
  void revoke() const { test::run("curl -sf -X POST http://" + host() + "/revoke"); }

 private:
  test::ScriptServer server_;
};

}  // namespace

TEST_CASE("WWW-Authenticate: schemes, quoted and plain params, several challenges") {
  auto cs = parse_www_authenticate(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull,push")");
  REQUIRE(cs.size() == 1);
  CHECK(cs[0].scheme == "bearer");
  CHECK(cs[0].param("realm") == "https://auth.docker.io/token");
  CHECK(cs[0].param("service") == "registry.docker.io");
  CHECK(cs[0].param("scope") == "repository:library/alpine:pull,push");  // comma inside quotes
  CHECK(cs[0].param("error").empty());

  cs = parse_www_authenticate(
      R"(Basic realm="Registry Realm", BEARER Realm = "https://t/x" , service=plain, error="a \"q\"")");
  REQUIRE(cs.size() == 2);
  CHECK(cs[0].scheme == "basic");
  CHECK(cs[0].param("realm") == "Registry Realm");
  CHECK(cs[1].scheme == "bearer");
  CHECK(cs[1].param("realm") == "https://t/x");
  CHECK(cs[1].param("service") == "plain");
  CHECK(cs[1].param("error") == R"(a "q")");

  cs = parse_www_authenticate("Negotiate, Basic");
  REQUIRE(cs.size() == 2);
  CHECK(cs[1].scheme == "basic");
  CHECK(cs[1].params.empty());
  CHECK(parse_www_authenticate("").empty());
  CHECK(parse_www_authenticate(R"(Bearer realm="unterminated)")[0].param("realm") ==
        "unterminated");
}

TEST_CASE("base64 for Basic auth and config.json") {
  CHECK(base64_encode("alice:s3cret") == "YWxpY2U6czNjcmV0");
  CHECK(base64_encode("a") == "YQ==");
  CHECK(base64_encode("") == "");
  CHECK(base64_decode("YWxpY2U6czNjcmV0") == "alice:s3cret");
  CHECK(base64_decode("YQ==") == "a");
  CHECK(base64_decode("YQ") == "a");
  CHECK_FALSE(base64_decode("Y"));
  CHECK_FALSE(base64_decode("a*b="));
}

TEST_CASE("Docker Hub's API host and credentials key") {
  CHECK(registry_api_host("docker.io") == "registry-1.docker.io");
  CHECK(registry_api_host("127.0.0.1:5000") == "127.0.0.1:5000");
  CHECK(credentials_key("docker.io") == "https://index.docker.io/v1/");
  CHECK(credentials_key("quay.io") == "quay.io");
}

TEST_CASE("credentials from config.json auths, identitytoken and Docker Hub's key") {
  CleanHome h;
  std::string file = h.docker_config(R"({"auths":{
      "https://127.0.0.1:5000": {"auth": "YWxpY2U6czNjcmV0"},
      "https://index.docker.io/v1/": {"identitytoken": "idtok"},
      "quay.io": {}}})");
  Credentials c = find_credentials("127.0.0.1:5000", "");
  CHECK(c.username == "alice");
  CHECK(c.password == "s3cret");
  CHECK(c.source == "credentials from " + file + " for 127.0.0.1:5000");
  c = find_credentials("docker.io", "");
  CHECK(c.identity_token == "idtok");
  CHECK(c.username.empty());
  c = find_credentials("quay.io", "");
  CHECK(c.empty());
  CHECK(c.source == "no credentials (none for quay.io in " + h.home.str() +
                        "/.config/containers/auth.json, " + file + ")");

  // --creds wins over every file.
  c = find_credentials("127.0.0.1:5000", "bob:pw:with:colons");
  CHECK(c.username == "bob");
  CHECK(c.password == "pw:with:colons");
  CHECK(c.source == "credentials from --creds for 127.0.0.1:5000");
  CHECK_THROWS_AS(find_credentials("x.io", "nocolon"), Error);

  h.docker_config(R"({"auths":{"x.io":{"auth":"not base64!"}}})");
  CHECK_THROWS_WITH(find_credentials("x.io", ""),
                    Catch::Contains("the auth entry for x.io is not base64"));
}

TEST_CASE("credentials: $REGISTRY_AUTH_FILE alone, $DOCKER_CONFIG, XDG auth.json first") {
  CleanHome h;
  h.docker_config(R"({"auths":{"r.io":{"auth":"ZG9ja2VyOmQ="}}})");  // docker:d
  CHECK(find_credentials("r.io", "").username == "docker");

  std::filesystem::create_directories(h.home.path() / ".config/containers");
  std::ofstream(h.home.path() / ".config/containers/auth.json")
      << R"({"auths":{"r.io":{"auth":"cG9kbWFuOnA="}}})";  // podman:p
  CHECK(find_credentials("r.io", "").username == "podman");

  TempDir other;
  std::ofstream(other.path() / "config.json") << R"({"auths":{"s.io":{"auth":"ZDpk"}}})";
  {
    ScopedEnv e{{"DOCKER_CONFIG", other.str()}};
    CHECK(find_credentials("s.io", "").username == "d");
  }
  std::string auth_file = (other.path() / "auth.json").string();
  std::ofstream(auth_file) << R"({"auths":{"t.io":{"auth":"dDp0"}}})";
  ScopedEnv e{{"REGISTRY_AUTH_FILE", auth_file}};
  CHECK(find_credentials("t.io", "").username == "t");
  Credentials none = find_credentials("r.io", "");  // the other files are not read
  CHECK(none.empty());
  CHECK(none.source == "no credentials (none for r.io in " + auth_file + ")");
}

TEST_CASE("credentials through docker-credential helpers (credHelpers, credsStore)") {
  CleanHome h;
  TempDir bin;
  std::string seen = (bin.path() / "seen").string();
  std::ofstream(bin.path() / "docker-credential-test") << R"(#!/bin/sh
server=$(cat)
echo "$server" >> ')" + seen + R"('
case "$server" in
  127.0.0.1:5000) echo '{"ServerURL":"127.0.0.1:5000","Username":"helper-user","Secret":"helper-pw"}' ;;
  https://index.docker.io/v1/) echo '{"ServerURL":"x","Username":"<token>","Secret":"hub-idtok"}' ;;
  broken.io) echo "keychain locked"; exit 3 ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
)";
  std::filesystem::permissions(bin.path() / "docker-credential-test",
                               std::filesystem::perms::owner_all);
  ScopedEnv path{{"PATH", bin.str() + ":" + std::getenv("PATH")}};

  std::string file = h.docker_config(
      R"({"credHelpers":{"127.0.0.1:5000":"test","gone.io":"absent"},
          "auths":{"127.0.0.1:5000":{"auth":"aWdub3JlZDp4"},"other.io":{"auth":"Zjpm"}},
          "credsStore":"test"})");
  Credentials c = find_credentials("127.0.0.1:5000", "");
  CHECK(c.username == "helper-user");
  CHECK(c.password == "helper-pw");
  CHECK(c.source == "credentials from docker-credential-test (" + file + ") for 127.0.0.1:5000");
  // credsStore, asked with Docker Hub's key; "<token>" means an identity token.
  c = find_credentials("docker.io", "");
  CHECK(c.identity_token == "hub-idtok");
  CHECK(test::read_file_text(seen) == "127.0.0.1:5000\nhttps://index.docker.io/v1/\n");
  CHECK(find_credentials("other.io", "").username == "f");  // auths before credsStore
  CHECK(find_credentials("unknown.io", "").empty());        // the helper's "not found"

  CHECK_THROWS_WITH(find_credentials("broken.io", ""),
                    Catch::Contains("docker-credential-test get (from " + file +
                                    ") failed for broken.io: keychain locked"));
  CHECK_THROWS_WITH(find_credentials("gone.io", ""),
                    Catch::Contains("docker-credential-absent is not on PATH"));
}

TEST_CASE("Bearer tokens: fetched with Basic credentials, cached per scope, renewed on 401") {
  if (!test::have_tool("python3") || !test::have_tool("curl")) return;
  CleanHome h;
  FakeTokenRegistry fake;
  std::vector<std::string> log;
  RegistryOptions o;
  o.creds = "alice:s3cret";
  o.log = [&](const std::string& line) { log.push_back(line); };
  RegistryClient c(fake.host(), "team/app", o);
  CHECK(c.get_manifest("1.0").bytes == R"({"schemaVersion":2})");
  CHECK(c.get_manifest("1.1").bytes == R"({"schemaVersion":2})");
  auto s = fake.stats();
  CHECK(s["token_requests"] == nlohmann::json::array({"repository:team/app:pull"}));

  fake.revoke();  // the next request is refused and a new token fetched
  CHECK(c.get_manifest("1.0").digest.size() == 71);
  CHECK(fake.stats()["token_requests"].size() == 2);

  // A blob redirected to another host gets no Authorization there.
  std::string hello = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
  std::string got;
  c.get_blob(hello, 5, [&](std::string_view chunk) { got.append(chunk); });
  CHECK(got == "hello");
  CHECK(fake.stats()["storage_auth"] == nlohmann::json::array({false}));

  for (const auto& line : log) {
    CHECK(line.find("s3cret") == std::string::npos);
    CHECK(line.find("tok-") == std::string::npos);
    CHECK(line.find("sig=") == std::string::npos);
  }
}

TEST_CASE("Bearer tokens: renewed when they expire; identity tokens use the refresh flow") {
  if (!test::have_tool("python3") || !test::have_tool("curl")) return;
  CleanHome h;
  FakeTokenRegistry fake(1);
  h.docker_config(R"({"auths":{")" + fake.host() + R"(":{"identitytoken":"refresh-123"}}})");
  RegistryClient c(fake.host(), "team/app");
  c.get_manifest("1.0");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  c.get_manifest("1.0");
  auto s = fake.stats();
  CHECK(s["grant"] == nlohmann::json::array({"refresh_token", "refresh_token"}));
  CHECK(s["token_requests"].size() == 2);
}

TEST_CASE("Bearer tokens: refused credentials name their source, never their value") {
  if (!test::have_tool("python3") || !test::have_tool("curl")) return;
  CleanHome h;
  FakeTokenRegistry fake;
  RegistryOptions o;
  o.creds = "alice:wrong-pw";
  try {
    RegistryClient(fake.host(), "team/app", o).get_manifest("1.0");
    FAIL("wrong credentials accepted");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::Network);
    CHECK_THAT(e.what(),
               Catch::Contains(
                   fake.host() + "/team/app: token for repository:team/app:pull from http://" +
                   fake.host() + "/token: 401 Unauthorized with credentials from --creds for " +
                   fake.host()));
    CHECK_THAT(e.what(), !Catch::Contains("wrong-pw"));
  }
  try {
    RegistryClient(fake.host(), "team/app").get_manifest("1.0");
    FAIL("anonymous access accepted");
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("401 Unauthorized anonymously, no credentials (none for " +
                                         fake.host()));
  }
}
