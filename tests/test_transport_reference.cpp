// Reference parsing (containers-transports spelling).
#include <catch2/catch.hpp>

#include "dslim/error.hpp"
#include "dslim/reference.hpp"
#include "dslim/source.hpp"

using namespace dslim;

TEST_CASE("oci and oci-archive references") {
  Reference r = parse_reference("oci:out/img:1.0");
  CHECK(r.transport == Transport::Oci);
  CHECK(r.path == "out/img");
  CHECK(r.tag == "1.0");
  CHECK(r.str() == "oci:out/img:1.0");
  r = parse_reference("oci:/abs/dir");
  CHECK(r.path == "/abs/dir");
  CHECK(r.tag.empty());
  r = parse_reference("oci-archive:img.tar:v2");
  CHECK(r.transport == Transport::OciArchive);
  CHECK(r.path == "img.tar");
  CHECK(r.tag == "v2");
  // OCI ref.name is wider than a Docker tag; the path ends at the first ':'.
  CHECK(parse_reference("oci:d:repo:1.0").tag == "repo:1.0");
}

TEST_CASE("docker-archive references") {
  Reference r = parse_reference("docker-archive:app.tar:team/app:1.4");
  CHECK(r.transport == Transport::DockerArchive);
  CHECK(r.path == "app.tar");
  CHECK(r.name == "team/app");
  CHECK(r.tag == "1.4");
  CHECK(r.str() == "docker-archive:app.tar:team/app:1.4");
  r = parse_reference("docker-archive:app.tar:localhost:5000/app");
  CHECK(r.name == "localhost:5000/app");
  CHECK(r.tag.empty());
  r = parse_reference("docker-archive:app.tar");
  CHECK(r.name.empty());
  CHECK_THROWS_AS(parse_reference("docker-archive:a.tar:App:1"), Error);
  CHECK_THROWS_AS(parse_reference("docker-archive:a.tar:app@sha256:abc"), Error);
}

TEST_CASE("dir references keep ':' in the path") {
  Reference r = parse_reference("dir:/srv/root:x");
  CHECK(r.transport == Transport::Dir);
  CHECK(r.path == "/srv/root:x");
  CHECK(parse_reference("dir:/").path == "/");
}

TEST_CASE("oci references may name an image by digest") {
  const std::string d = "sha256:" + std::string(64, 'a');
  Reference r = parse_reference("oci:out/img@" + d);
  CHECK(r.path == "out/img");
  CHECK(r.digest == d);
  CHECK(r.tag.empty());
  CHECK(r.str() == "oci:out/img@" + d);
  // A tag may still hold '@' (OCI ref.name): only "@sha256:" before any ':' is a digest.
  CHECK(parse_reference("oci:d:a@b").tag == "a@b");
}

TEST_CASE("registry references follow Docker Hub's rules") {
  Reference r = parse_reference("alpine");
  CHECK(r.transport == Transport::Docker);
  CHECK(r.registry == "docker.io");
  CHECK(r.repository == "library/alpine");
  CHECK(r.tag == "latest");
  CHECK(r.tag_implied);
  CHECK(r.str() == "alpine");

  r = parse_reference("golang:alpine");
  CHECK(r.repository == "library/golang");
  CHECK(r.tag == "alpine");
  CHECK(r.str() == "golang:alpine");

  r = parse_reference("docker://team/app:1.4");
  CHECK(r.registry == "docker.io");
  CHECK(r.repository == "team/app");
  CHECK(r.str() == "docker://team/app:1.4");

  r = parse_reference("docker://registry.example.com/team/app:1.4");
  CHECK(r.registry == "registry.example.com");
  CHECK(r.repository == "team/app");
  CHECK(r.tag == "1.4");
  CHECK_FALSE(r.tag_implied);
  CHECK(r.str() == "docker://registry.example.com/team/app:1.4");

  r = parse_reference("docker://127.0.0.1:5000/app");
  CHECK(r.registry == "127.0.0.1:5000");
  CHECK(r.repository == "app");  // library/ is Docker Hub's alone
  CHECK(r.tag == "latest");
  CHECK(r.str() == "docker://127.0.0.1:5000/app");

  CHECK(parse_reference("localhost/app").registry == "localhost");
  CHECK(parse_reference("docker://[::1]:5000/a/b").registry == "[::1]:5000");
  CHECK(parse_reference("index.docker.io/library/alpine").registry == "docker.io");
  CHECK(parse_reference("docker://my-reg.io/a__b/c-d/e.f:x").repository == "a__b/c-d/e.f");

  const std::string d = "sha256:" + std::string(64, 'f');
  r = parse_reference("docker://127.0.0.1:5000/team/app@" + d);
  CHECK(r.digest == d);
  CHECK(r.tag.empty());
  CHECK(r.str() == "docker://127.0.0.1:5000/team/app@" + d);
  r = parse_reference("app:1.0@" + d);
  CHECK(r.tag == "1.0");
  CHECK(r.digest == d);
  CHECK(r.str() == "app:1.0@" + d);
}

TEST_CASE("bad references are usage errors naming the reference") {
  auto usage = [](const std::string& text, const std::string& needle) {
    try {
      parse_reference(text);
      FAIL("accepted " << text);
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::Usage);
      CHECK_THAT(e.what(), Catch::Contains(text, Catch::CaseSensitive::Yes));
      CHECK_THAT(e.what(), Catch::Contains(needle));
    }
  };
  usage("oci:", "no path");
  usage("oci:dir:", "oci:dir:");
  usage("oci:dir:bad tag", "bad tag");
  usage("oci:dir@sha256:abc", "not a digest");
  usage("oci-archive:a.tar@sha256:" + std::string(64, 'a'), "only in oci:");
  usage("Alpine", "not a valid repository name");
  usage("./out", "needs a transport");
  usage("docker://", "no repository name");
  usage("docker://host.io/Team/app", "not a valid repository name");
  usage("docker://host.io/team//app", "not a valid repository name");
  usage("docker://host.io/team/app-", "not a valid repository name");
  usage("docker://host.io/a._b", "not a valid repository name");
  usage("docker://-bad.io/app", "registry host");
  usage("docker://host.io:99999x/app", "registry host");
  usage("docker://host.io/app:.x", "not a valid tag");
  usage("docker://host.io/app:" + std::string(129, 'a'), "not a valid tag");
  usage("docker://host.io/app@sha256:ABC", "not a digest");
  usage("docker://host.io/app@md5:" + std::string(32, 'a'), "not a digest");
  usage("http://host.io/app", "not an image reference");
}

TEST_CASE("an unreachable registry is a network error naming it") {
  TransportOptions options;
  options.registry.attempts = 1;  // port 1 refuses at once; no retry needed to show it
  try {
    load_image(parse_reference("docker://127.0.0.1:1/app:1"), kDefaultPlatform, options);
    FAIL("loaded a registry image");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::Network);
    CHECK_THAT(e.what(), Catch::StartsWith("docker://127.0.0.1:1/app:1: 127.0.0.1:1/app: GET "));
  }
}
