// Reference parsing (containers-transports spelling).
#include <catch2/catch.hpp>

#include "dslim/error.hpp"
#include "dslim/reference.hpp"

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

TEST_CASE("bad and unsupported references are usage errors naming the reference") {
  auto usage = [](const std::string& text, const std::string& needle) {
    try {
      parse_reference(text);
      FAIL("accepted " << text);
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::Usage);
      CHECK_THAT(e.what(), Catch::Contains(needle));
    }
  };
  usage("docker://registry.example.com/team/app:1.4", "not supported yet");
  usage("alpine:3.19", "not supported yet");
  usage("alpine", "alpine");
  usage("oci:", "no path");
  usage("oci:dir:", "oci:dir:");
  usage("oci:dir:bad tag", "bad tag");
}
