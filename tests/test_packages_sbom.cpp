// Tests for src/packages/sbom_*.cpp: the SPDX 2.3 and CycloneDX 1.5
// documents validate against the official schemas (fixtures/schemas, checked
// offline by python3-jsonschema), are reproducible, and name every package.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "dslim/digest.hpp"
#include "dslim/error.hpp"
#include "dslim/packages.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using dslim::packages::AppFile;
using dslim::packages::Ecosystem;
using dslim::packages::Package;
using dslim::packages::sbom_packages;
using dslim::packages::SbomInput;
using nlohmann::json;

namespace {

const std::string kSchemaDir = DSLIM_SOURCE_DIR "/fixtures/schemas";

SbomInput sample() {
  SbomInput in;
  in.image_name = "registry.example.com:5000/team/App:1.0";
  in.manifest_digest = "sha256:" + std::string(
                                       "0123456789abcdef0123456789abcdef"
                                       "fedcba9876543210fedcba9876543210");
  in.created = "2024-01-02T03:04:05Z";
  in.tool_version = "0.1.0";
  const std::string distro = "&distro=debian-12";
  in.packages = {
      {Ecosystem::Deb, "base-files", "12.4+deb12u5", "amd64", "GPL-2.0-or-later",
       "pkg:deb/debian/base-files@12.4%2Bdeb12u5?arch=amd64" + distro},
      {Ecosystem::Deb, "libc6", "2.36-9+deb12u4", "amd64", "GPL-2.0-or-later AND LGPL-2.1-or-later",
       "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64" + distro},
      {Ecosystem::Deb, "libstdc++6", "12.2.0-14", "amd64",
       "GPL-3.0-or-later WITH GCC-exception-3.1",
       "pkg:deb/debian/libstdc%2B%2B6@12.2.0-14?arch=amd64" + distro},
      {Ecosystem::Deb, "tzdata", "2024a-0+deb12u1", "all", "NOASSERTION",
       "pkg:deb/debian/tzdata@2024a-0%2Bdeb12u1?arch=all" + distro},
      {Ecosystem::Deb, "zlib1g", "1:1.2.13.dfsg-1", "amd64", "Zlib",
       "pkg:deb/debian/zlib1g@1%3A1.2.13.dfsg-1?arch=amd64" + distro},
  };
  in.files = {
      {"/app/main.py", "a9993e364706816aba3e25717850c26c9cd0d89d",
       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"/usr/local/bin/tool", "da39a3ee5e6b4b0d3255bfef95601890afd80709",
       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
  };
  return in;
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  REQUIRE(out.good());
}

// Validates `doc` against <kSchemaDir>/<schema> with
// tests/support/validate_sbom.py: offline, the draft each schema's $schema
// names, the other schemas of the directory resolving its $refs.
const std::string kValidator = DSLIM_SOURCE_DIR "/tests/support/validate_sbom.py";

constexpr int kInvalid = 10;

struct Validation {
  // 0 valid, 10 invalid, 3 no jsonschema, 127 no python3; else the
  // validator itself failed (a traceback: 1).
  int status = 0;
  std::string output;
};

Validation validate(const dslim::test::TempDir& dir, const std::string& schema,
                    const std::string& doc_text) {
  const fs::path doc = dir.path() / ("doc-" + schema);
  write_file(doc, doc_text);
  const std::string command = "python3 '" + kValidator + "' '" + kSchemaDir + "' '" + schema +
                              "' '" + doc.string() + "' 2>&1";
  Validation v;
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) v.output.append(buf, n);
  const int status = pclose(pipe);
  v.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  return v;
}

// Under CI a missing validator fails the test; elsewhere it is skipped.
bool have_validator(const dslim::test::TempDir& dir) {
  const Validation v = validate(dir, "jsf-0.82.schema.json", "{}");
  if (v.status == 3 || v.status == 127) {
    if (std::getenv("CI")) FAIL("python3-jsonschema is required under CI; run scripts/bootstrap");
    WARN("skipped: no python3-jsonschema\n" << v.output);
    return false;
  }
  INFO(v.output);
  REQUIRE(v.status == 0);
  return true;
}

}  // namespace

TEST_CASE("SPDX and CycloneDX documents validate against the official schemas", "[packages]") {
  dslim::test::TempDir dir;
  if (!have_validator(dir)) return;
  const SbomInput in = sample();
  const std::string spdx = dslim::packages::spdx_json(in);
  const std::string cdx = dslim::packages::cyclonedx_json(in);

  const Validation s = validate(dir, "spdx-2.3.schema.json", spdx);
  INFO(spdx << s.output);
  CHECK(s.status == 0);
  CHECK(s.output.find("Draft201909Validator") != std::string::npos);
  const Validation c = validate(dir, "bom-1.5.schema.json", cdx);
  INFO(cdx << c.output);
  CHECK(c.status == 0);
  CHECK(c.output.find("Draft7Validator") != std::string::npos);

  SECTION("no packages and no files validate too") {
    SbomInput empty = in;
    empty.packages.clear();
    empty.files.clear();
    CHECK(validate(dir, "spdx-2.3.schema.json", dslim::packages::spdx_json(empty)).status == 0);
    CHECK(validate(dir, "bom-1.5.schema.json", dslim::packages::cyclonedx_json(empty)).status == 0);
  }
}

TEST_CASE("the validator rejects a document that breaks the schema", "[packages]") {
  dslim::test::TempDir dir;
  if (!have_validator(dir)) return;
  const SbomInput in = sample();

  // Invalid, and for the reason given: its path and message in the output.
  auto rejects = [&](const std::string& schema, const json& doc, const std::string& why) {
    const Validation v = validate(dir, schema, doc.dump());
    INFO(v.output);
    CHECK(v.status == kInvalid);
    CHECK(v.output.find(why) != std::string::npos);
  };

  json spdx = json::parse(dslim::packages::spdx_json(in));
  spdx.erase("documentNamespace");
  rejects("spdx-2.3.schema.json", spdx, ": 'documentNamespace' is a required property");
  spdx = json::parse(dslim::packages::spdx_json(in));
  spdx["files"][0]["checksums"][0]["algorithm"] = "SHA-1";  // CycloneDX's spelling
  rejects("spdx-2.3.schema.json", spdx, "files/0/checksums/0/algorithm: 'SHA-1' is not one of");

  json cdx = json::parse(dslim::packages::cyclonedx_json(in));
  cdx.erase("bomFormat");
  rejects("bom-1.5.schema.json", cdx, ": 'bomFormat' is a required property");
  // Through the $ref into spdx.schema.json: an unknown licence id is refused,
  // a known one accepted (an unresolved $ref would end in a traceback).
  cdx = json::parse(dslim::packages::cyclonedx_json(in));
  cdx["components"][0]["licenses"] = json::parse(R"([{"license": {"id": "Not-A-Licence"}}])");
  rejects("bom-1.5.schema.json", cdx, "components/0/licenses: ");
  cdx["components"][0]["licenses"] = json::parse(R"([{"license": {"id": "MIT"}}])");
  const Validation v = validate(dir, "bom-1.5.schema.json", cdx.dump());
  INFO(v.output);
  CHECK(v.status == 0);
}

TEST_CASE("the same input gives the same bytes; another digest another document", "[packages]") {
  const SbomInput in = sample();
  CHECK(dslim::packages::spdx_json(in) == dslim::packages::spdx_json(sample()));
  CHECK(dslim::packages::cyclonedx_json(in) == dslim::packages::cyclonedx_json(sample()));
  CHECK(dslim::packages::spdx_json(in).ends_with("}\n"));
  CHECK(dslim::packages::cyclonedx_json(in).ends_with("}\n"));

  // The order the caller gathered things in does not matter.
  SbomInput shuffled = in;
  std::reverse(shuffled.packages.begin(), shuffled.packages.end());
  std::reverse(shuffled.files.begin(), shuffled.files.end());
  CHECK(dslim::packages::spdx_json(shuffled) == dslim::packages::spdx_json(in));
  CHECK(dslim::packages::cyclonedx_json(shuffled) == dslim::packages::cyclonedx_json(in));

  SbomInput other = in;
  other.manifest_digest = "sha256:" + std::string(64, 'e');
  const json s1 = json::parse(dslim::packages::spdx_json(in));
  const json s2 = json::parse(dslim::packages::spdx_json(other));
  CHECK(s1["documentNamespace"] != s2["documentNamespace"]);
  CHECK(s2["documentNamespace"] ==
        "https://dslim.invalid/spdx/"
        "registry.example.com%3A5000%2Fteam%2FApp%3A1.0-" +
            std::string(64, 'e'));
  const json c1 = json::parse(dslim::packages::cyclonedx_json(in));
  const json c2 = json::parse(dslim::packages::cyclonedx_json(other));
  CHECK(c1["serialNumber"] != c2["serialNumber"]);
  CHECK(c1["metadata"]["component"]["version"] == in.manifest_digest);
  CHECK(c2["metadata"]["component"]["version"] == other.manifest_digest);
  // Another name of the same image is another document too.
  SbomInput renamed = in;
  renamed.image_name = "app:2.0";
  CHECK(json::parse(dslim::packages::cyclonedx_json(renamed))["serialNumber"] !=
        c1["serialNumber"]);
  // No clock: the only time is the one given.
  SbomInput later = in;
  later.created = "2025-06-07T08:09:10Z";
  CHECK(json::parse(dslim::packages::spdx_json(later))["creationInfo"]["created"] ==
        "2025-06-07T08:09:10Z");
  CHECK(json::parse(dslim::packages::cyclonedx_json(later))["metadata"]["timestamp"] ==
        "2025-06-07T08:09:10Z");
}

TEST_CASE("the serial number is an RFC 4122 version 5 UUID", "[packages]") {
  const std::string serial =
      json::parse(dslim::packages::cyclonedx_json(sample()))["serialNumber"].get<std::string>();
  REQUIRE(serial.size() == 9 + 36);
  CHECK(serial.starts_with("urn:uuid:"));
  CHECK(serial[9 + 14] == '5');
  CHECK(std::string("89ab").find(serial[9 + 19]) != std::string::npos);
}

TEST_CASE("the image's purl: the repository's last component, the digest as version",
          "[packages]") {
  using dslim::packages::image_purl;
  const std::string d = "sha256:" + std::string(64, 'a');
  const std::string v = "@sha256%3A" + std::string(64, 'a');
  CHECK(image_purl("registry.example.com:5000/team/App:1.0", d) == "pkg:oci/app" + v);
  CHECK(image_purl("docker://localhost:5000/x/y/app@" + d, d) == "pkg:oci/app" + v);
  CHECK(image_purl("alpine", d) == "pkg:oci/alpine" + v);
  CHECK(image_purl("oci:out/myapp:latest", d) == "pkg:oci/myapp" + v);
  CHECK(image_purl("oci:out@" + d, d) == "pkg:oci/out" + v);
  CHECK(image_purl("oci-archive:/tmp/app.tar:1", d) == "pkg:oci/app.tar" + v);
  CHECK(image_purl("docker-archive:/tmp/a.tar:team/web:1", d) == "pkg:oci/web" + v);
  CHECK(image_purl("dir:/tmp/slim/", d) == "pkg:oci/slim" + v);
}

TEST_CASE("SPDX: the image contains every package and the application its files", "[packages]") {
  const SbomInput in = sample();
  const std::string text = dslim::packages::spdx_json(in);
  const json doc = json::parse(text);
  for (const Package& p : in.packages) CHECK(text.find(json(p.purl).dump()) != std::string::npos);

  std::map<std::string, json> by_id;
  for (const json& p : doc["packages"]) by_id[p["SPDXID"].get<std::string>()] = p;
  REQUIRE(by_id.size() == 1 + in.packages.size() + 1);
  const json& image = by_id.at("SPDXRef-Image");
  CHECK(image["primaryPackagePurpose"] == "CONTAINER");
  CHECK(image["versionInfo"] == in.manifest_digest);
  CHECK(image["checksums"][0]["checksumValue"] == in.manifest_digest.substr(7));
  CHECK(image["externalRefs"][0]["referenceLocator"] ==
        "pkg:oci/app@sha256%3A" + in.manifest_digest.substr(7));

  const json& zlib = by_id.at("SPDXRef-Package-deb-zlib1g");
  CHECK(zlib["versionInfo"] == "1:1.2.13.dfsg-1");
  CHECK(zlib["licenseDeclared"] == "Zlib");
  CHECK(zlib["filesAnalyzed"] == false);
  CHECK(by_id.at("SPDXRef-Package-deb-libc6")["licenseDeclared"] ==
        "GPL-2.0-or-later AND LGPL-2.1-or-later");
  CHECK(by_id.at("SPDXRef-Package-deb-tzdata")["licenseDeclared"] == "NOASSERTION");
  CHECK(by_id.count("SPDXRef-Package-deb-libstdc--6") == 1);

  // SPDX 2.3 §7.9: SHA-1 over the files' sorted SHA-1s, concatenated.
  const json& app = by_id.at("SPDXRef-Application");
  CHECK(app["filesAnalyzed"] == true);
  CHECK(app["packageVerificationCode"]["packageVerificationCodeValue"] ==
        dslim::sha1_hex("a9993e364706816aba3e25717850c26c9cd0d89d"
                        "da39a3ee5e6b4b0d3255bfef95601890afd80709"));
  REQUIRE(doc["files"].size() == 2);
  CHECK(doc["files"][0]["fileName"] == "./app/main.py");
  CHECK(doc["files"][1]["fileName"] == "./usr/local/bin/tool");
  CHECK(doc["files"][0]["checksums"] == json::parse(R"([{"algorithm": "SHA1", "checksumValue":
                         "a9993e364706816aba3e25717850c26c9cd0d89d"},
                        {"algorithm": "SHA256", "checksumValue":
                         "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}])"));

  std::set<std::tuple<std::string, std::string, std::string>> rels;
  for (const json& r : doc["relationships"]) {
    rels.emplace(r["spdxElementId"], r["relationshipType"], r["relatedSpdxElement"]);
  }
  CHECK(rels.contains({"SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Image"}));
  CHECK(rels.contains({"SPDXRef-Image", "CONTAINS", "SPDXRef-Package-deb-zlib1g"}));
  CHECK(rels.contains({"SPDXRef-Image", "CONTAINS", "SPDXRef-Application"}));
  CHECK(rels.contains({"SPDXRef-Application", "CONTAINS", "SPDXRef-File-1"}));
  CHECK(rels.contains({"SPDXRef-Application", "CONTAINS", "SPDXRef-File-2"}));
  CHECK(rels.size() == 1 + in.packages.size() + 1 + in.files.size());

  SECTION("no application package without files") {
    SbomInput bare = in;
    bare.files.clear();
    const json d = json::parse(dslim::packages::spdx_json(bare));
    CHECK(!d.contains("files"));
    CHECK(d["packages"].size() == 1 + in.packages.size());
  }
  SECTION("two packages of one name still get distinct SPDXIDs") {
    SbomInput multi = in;
    Package i386 = multi.packages[1];
    i386.architecture = "i386";
    multi.packages.push_back(i386);
    multi.packages.push_back(i386);
    const json d = json::parse(dslim::packages::spdx_json(multi));
    std::set<std::string> ids;
    for (const json& p : d["packages"]) {
      CHECK(ids.insert(p["SPDXID"].get<std::string>()).second);
    }
    CHECK(ids.contains("SPDXRef-Package-deb-libc6-i386"));
  }
}

TEST_CASE("CycloneDX: packages as libraries, app files as files, the image as metadata",
          "[packages]") {
  const SbomInput in = sample();
  const std::string text = dslim::packages::cyclonedx_json(in);
  const json doc = json::parse(text);
  for (const Package& p : in.packages) CHECK(text.find(json(p.purl).dump()) != std::string::npos);

  const json& image = doc["metadata"]["component"];
  CHECK(image["type"] == "container");
  CHECK(image["purl"] == dslim::packages::image_purl(in.image_name, in.manifest_digest));
  CHECK(image["hashes"][0] == json{{"alg", "SHA-256"}, {"content", in.manifest_digest.substr(7)}});
  CHECK(doc["metadata"]["tools"]["components"][0]["version"] == "0.1.0");

  std::map<std::string, json> by_ref;
  for (const json& c : doc["components"]) by_ref[c["bom-ref"].get<std::string>()] = c;
  REQUIRE(by_ref.size() == in.packages.size() + in.files.size());
  const json& libc = by_ref.at(in.packages[1].purl);
  CHECK(libc["type"] == "library");
  CHECK(libc["licenses"] ==
        json::parse(R"([{"expression": "GPL-2.0-or-later AND LGPL-2.1-or-later"}])"));
  CHECK(libc["properties"] == json::parse(R"([{"name": "dslim:architecture", "value": "amd64"}])"));
  CHECK(!by_ref.at(in.packages[3].purl).contains("licenses"));  // NOASSERTION
  CHECK(by_ref.at(in.packages[4].purl)["version"] == "1:1.2.13.dfsg-1");

  const json& tool = by_ref.at("file:/usr/local/bin/tool");
  CHECK(tool["type"] == "file");
  CHECK(tool["hashes"] == json::parse(R"([
      {"alg": "SHA-1", "content": "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
      {"alg": "SHA-256", "content":
       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}])"));

  REQUIRE(doc["dependencies"].size() == 1);
  CHECK(doc["dependencies"][0]["ref"] == "image");
  CHECK(doc["dependencies"][0]["dependsOn"].size() == by_ref.size());
}

TEST_CASE("the packages read back from either document are the ones written", "[packages]") {
  const auto in = sample();
  for (const auto& text : {spdx_json(in), cyclonedx_json(in)}) {
    const auto back = sbom_packages(text, "doc");
    REQUIRE(back.size() == in.packages.size());
    for (size_t i = 0; i < back.size(); ++i) {
      CHECK(back[i].name == in.packages[i].name);
      CHECK(back[i].version == in.packages[i].version);
      CHECK(back[i].architecture == in.packages[i].architecture);
      CHECK(back[i].license == in.packages[i].license);
      CHECK(back[i].purl == in.packages[i].purl);
      CHECK(back[i].ecosystem == Ecosystem::Deb);
    }
  }
  // Another tool's CycloneDX: a licence by id, an apk purl, a non-package component.
  const auto other = sbom_packages(R"({"bomFormat":"CycloneDX","specVersion":"1.5","components":[
      {"type":"library","name":"musl","version":"1.2.5-r0",
       "purl":"pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=3.20.0",
       "licenses":[{"license":{"id":"MIT"}}]},
      {"type":"library","name":"left-pad","version":"1.3.0","purl":"pkg:npm/left-pad@1.3.0"}]})",
                                   "syft.cdx.json");
  REQUIRE(other.size() == 1);
  CHECK(other[0].ecosystem == Ecosystem::Apk);
  CHECK(other[0].architecture == "x86_64");
  CHECK(other[0].license == "MIT");
  CHECK_THROWS_WITH(sbom_packages(R"({"hello":1})", "x.json"),
                    Catch::Contains("x.json: neither an SPDX nor a CycloneDX"));
  CHECK_THROWS_WITH(sbom_packages("{", "y.json"), Catch::Contains("y.json: malformed JSON"));
}

TEST_CASE("a file without its SHA-1 is refused, not written", "[packages]") {
  SbomInput in = sample();
  in.files[0].sha1.clear();
  CHECK_THROWS_AS(dslim::packages::spdx_json(in), dslim::Error);
  CHECK_THROWS_AS(dslim::packages::cyclonedx_json(in), dslim::Error);
}
