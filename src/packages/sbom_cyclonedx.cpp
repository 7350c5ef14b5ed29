// CycloneDX 1.5 JSON of an image: the image as the BOM's container
// component, its distribution packages as libraries and the files no package
// owns as files.
#include <algorithm>
#include <cctype>
#include <set>
#include <string_view>
#include <tuple>

#include <nlohmann/json.hpp>

#include "dslim/digest.hpp"
#include "dslim/error.hpp"
#include "dslim/packages.hpp"
#include "packages/sbom_order.hpp"
#include "packages/spelling.hpp"

namespace dslim::packages {

namespace {

using nlohmann::json;

// An RFC 4122 name-based (version 5, SHA-1) UUID in the URL namespace: the
// same image always gets the same serial number, another image another one.
std::string uuid_v5_url(const std::string& url) {
  static constexpr unsigned char kUrlNamespace[16] = {0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad,
                                                      0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0,
                                                      0x4f, 0xd4, 0x30, 0xc8};
  std::string hex = sha1_hex(std::string(reinterpret_cast<const char*>(kUrlNamespace), 16) + url);
  hex[12] = '5';                                                    // version
  hex[16] = "89ab"[std::stoi(hex.substr(16, 1), nullptr, 16) & 3];  // variant 10xx
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

json hash(std::string_view algorithm, const std::string& hex) {
  return {{"alg", algorithm}, {"content", ascii_lower(hex)}};
}

}  // namespace

std::string cyclonedx_json(const SbomInput& input) {
  const std::string hex = digest_hex(input.manifest_digest, "SBOM manifest digest");

  // The SPDXIDs / bom-refs and every list's order follow from the content.
  const SbomInput ordered = in_content_order(input);
  const std::vector<Package>& packages = ordered.packages;
  const std::vector<AppFile>& files = ordered.files;

  const std::string image_ref = "image";
  // Every bom-ref must be unique in the BOM; "image", purls ("pkg:") and
  // "file:" refs cannot meet, but two equal purls could.
  std::set<std::string> refs = {image_ref};
  json components = json::array();
  json depends_on = json::array();
  for (const Package& p : packages) {
    std::string base =
        p.purl.empty() ? (p.ecosystem == Ecosystem::Deb ? "deb:" : "apk:") + p.name : p.purl;
    std::string ref = base;
    for (int n = 2; refs.contains(ref); ++n) ref = base + "#" + std::to_string(n);
    refs.insert(ref);

    json c = {{"type", "library"}, {"bom-ref", ref}, {"name", p.name}};
    if (!p.version.empty()) c["version"] = p.version;
    if (!p.purl.empty()) c["purl"] = p.purl;
    // NOASSERTION is SPDX's "unknown"; CycloneDX says that by leaving it out.
    if (!p.license.empty() && p.license != "NOASSERTION") {
      c["licenses"] = json::array({{{"expression", p.license}}});
    }
    if (!p.architecture.empty()) {
      c["properties"] = json::array({{{"name", "dslim:architecture"}, {"value", p.architecture}}});
    }
    components.push_back(std::move(c));
    depends_on.push_back(ref);
  }
  for (const AppFile& f : files) {
    if (f.sha1.empty() || f.sha256.empty()) {
      throw Error("SBOM: " + f.path + " has no SHA-1 or SHA-256");  // a caller's bug
    }
    std::string ref = "file:" + f.path;
    for (int n = 2; refs.contains(ref); ++n) ref = "file:" + f.path + "#" + std::to_string(n);
    refs.insert(ref);
    components.push_back({
        {"type", "file"},
        {"bom-ref", ref},
        {"name", f.path},
        {"hashes", json::array({hash("SHA-1", f.sha1), hash("SHA-256", f.sha256)})},
    });
    depends_on.push_back(ref);
  }

  const std::string purl = image_purl(input.image_name, input.manifest_digest);
  json doc = {
      {"bomFormat", "CycloneDX"},
      {"specVersion", "1.5"},
      {"serialNumber", "urn:uuid:" + uuid_v5_url("https://dslim.invalid/cyclonedx/" +
                                                 percent_encode(input.image_name) + "-" + hex)},
      {"version", 1},
      {"metadata",
       {{"timestamp", input.created},
        {"tools",
         {{"components",
           json::array(
               {{{"type", "application"}, {"name", "dslim"}, {"version", input.tool_version}}})}}},
        {"component",
         {{"type", "container"},
          {"bom-ref", image_ref},
          {"name", input.image_name},
          {"version", input.manifest_digest},
          {"purl", purl},
          {"hashes", json::array({hash("SHA-256", hex)})}}}}},
      {"components", std::move(components)},
      // What the image holds, so a reader can walk from the image to each part.
      {"dependencies", json::array({{{"ref", image_ref}, {"dependsOn", std::move(depends_on)}}})},
  };
  // Paths need not be UTF-8; replace what is not rather than throw.
  return doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace dslim::packages
