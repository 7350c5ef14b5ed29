// SPDX 2.3 JSON of an image: the image as a CONTAINER package that contains
// its distribution packages (metadata only: filesAnalyzed false) and, when
// files no package owns were added, an "application" package whose files are
// listed with their SHA-1 and SHA-256.
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

constexpr std::string_view kNoAssertion = "NOASSERTION";

// The part of an SPDXID after "SPDXRef-" may hold only [A-Za-z0-9.-].
std::string id_part(std::string_view text) {
  std::string out;
  for (unsigned char c : text) out += std::isalnum(c) || c == '.' || c == '-' ? c : '-';
  return out.empty() ? "-" : out;
}

std::string last_component(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The repository of an image reference in any of dslim's spellings
// (include/dslim/reference.hpp), without tag or digest. dslim_packages cannot
// link dslim_transport's parser, and a purl only needs the name.
std::string repository_of(std::string_view ref) {
  auto cut_tag = [](std::string name) {
    name = name.substr(0, name.find('@'));
    const size_t colon = name.rfind(':');
    const size_t slash = name.rfind('/');
    if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
      name.resize(colon);
    }
    return name;
  };
  if (ref.starts_with("docker://")) return cut_tag(std::string(ref.substr(9)));
  for (std::string_view transport : {"oci:", "oci-archive:", "dir:", "docker-archive:"}) {
    if (!ref.starts_with(transport)) continue;
    // PATH ends at the first ':' (skopeo's rule); an oci: digest follows '@'.
    std::string rest(ref.substr(transport.size()));
    const size_t colon = rest.find(':');
    std::string path = rest.substr(0, colon);
    if (transport == "docker-archive:" && colon != std::string::npos) {
      const std::string name = cut_tag(rest.substr(colon + 1));
      if (!name.empty()) return name;
    }
    if (transport == "oci:") path = path.substr(0, path.find('@'));
    return path;
  }
  return cut_tag(std::string(ref));
}

// SPDX file names are relative to the package root: "/app/x" is "./app/x".
std::string relative_name(const std::string& path) {
  const size_t start = path.find_first_not_of('/');
  return "./" + (start == std::string::npos ? std::string() : path.substr(start));
}

json checksum(std::string_view algorithm, const std::string& hex) {
  return {{"algorithm", algorithm}, {"checksumValue", hex}};
}

json purl_ref(const std::string& purl) {
  return {{"referenceCategory", "PACKAGE-MANAGER"},
          {"referenceType", "purl"},
          {"referenceLocator", purl}};
}

json relationship(const std::string& from, std::string_view type, const std::string& to) {
  return {{"spdxElementId", from}, {"relationshipType", type}, {"relatedSpdxElement", to}};
}

std::string ecosystem_name(Ecosystem e) {
  return e == Ecosystem::Deb ? "deb" : "apk";
}

}  // namespace

// purl-spec's oci type: the name is the repository's last component, in
// lowercase; the version is the manifest digest ("sha256%3A<hex>"). Shared
// with sbom_cyclonedx.cpp so both documents name the image alike.
std::string image_purl(const std::string& image_name, const std::string& manifest_digest) {
  std::string name = ascii_lower(last_component(repository_of(image_name)));
  if (name.empty()) name = "image";
  return "pkg:oci/" + percent_encode(name) + "@" + percent_encode(manifest_digest);
}

std::string spdx_json(const SbomInput& input) {
  const std::string hex = digest_hex(input.manifest_digest, "SBOM manifest digest");

  // The SPDXIDs / bom-refs and every list's order follow from the content.
  const SbomInput ordered = in_content_order(input);
  const std::vector<Package>& packages = ordered.packages;
  const std::vector<AppFile>& files = ordered.files;

  const std::string image_id = "SPDXRef-Image";
  json image = {
      {"SPDXID", image_id},
      {"name", input.image_name},
      {"versionInfo", input.manifest_digest},
      {"primaryPackagePurpose", "CONTAINER"},
      {"downloadLocation", kNoAssertion},
      {"filesAnalyzed", false},
      {"licenseConcluded", kNoAssertion},
      {"licenseDeclared", kNoAssertion},
      {"copyrightText", kNoAssertion},
      {"checksums", json::array({checksum("SHA256", hex)})},
      {"externalRefs",
       json::array({purl_ref(image_purl(input.image_name, input.manifest_digest))})},
  };
  json spdx_packages = json::array({image});
  json relationships = json::array({relationship("SPDXRef-DOCUMENT", "DESCRIBES", image_id)});

  // Two packages of one name (multi-arch dpkg) get the architecture, then a
  // counter, so every SPDXID stays unique.
  std::set<std::string> ids;
  for (const Package& p : packages) {
    const std::string base =
        "SPDXRef-Package-" + ecosystem_name(p.ecosystem) + "-" + id_part(p.name);
    std::string id = base;
    if (ids.contains(id)) id = base + "-" + id_part(p.architecture);
    for (int n = 2; ids.contains(id); ++n) id = base + "-" + std::to_string(n);
    ids.insert(id);

    json entry = {
        {"SPDXID", id},
        {"name", p.name},
        {"downloadLocation", kNoAssertion},
        {"filesAnalyzed", false},  // the package's own files are not listed
        {"licenseConcluded", kNoAssertion},
        {"licenseDeclared", p.license.empty() ? std::string(kNoAssertion) : p.license},
        {"copyrightText", kNoAssertion},
        {"primaryPackagePurpose", "LIBRARY"},
    };
    if (!p.version.empty()) entry["versionInfo"] = p.version;
    if (!p.purl.empty()) entry["externalRefs"] = json::array({purl_ref(p.purl)});
    spdx_packages.push_back(std::move(entry));
    relationships.push_back(relationship(image_id, "CONTAINS", id));
  }

  json spdx_files = json::array();
  if (!files.empty()) {
    // A package with files must have filesAnalyzed true (SPDX 2.3 §7.8: "if
    // false, the package shall not contain any files"), and then carries the
    // verification code of §7.9: SHA-1 of its files' sorted SHA-1s.
    const std::string app_id = "SPDXRef-Application";
    std::vector<std::string> sha1s;
    for (size_t i = 0; i < files.size(); ++i) {
      const AppFile& f = files[i];
      if (f.sha1.empty() || f.sha256.empty()) {
        throw Error("SBOM: " + f.path + " has no SHA-1 or SHA-256");  // a caller's bug
      }
      sha1s.push_back(ascii_lower(f.sha1));
      const std::string id = "SPDXRef-File-" + std::to_string(i + 1);
      spdx_files.push_back({
          {"SPDXID", id},
          {"fileName", relative_name(f.path)},
          {"checksums", json::array({checksum("SHA1", ascii_lower(f.sha1)),
                                     checksum("SHA256", ascii_lower(f.sha256))})},
          {"licenseConcluded", kNoAssertion},
          {"licenseInfoInFiles", json::array({kNoAssertion})},
          {"copyrightText", kNoAssertion},
      });
      relationships.push_back(relationship(app_id, "CONTAINS", id));
    }
    std::sort(sha1s.begin(), sha1s.end());
    std::string joined;
    for (const auto& s : sha1s) joined += s;
    spdx_packages.push_back({
        {"SPDXID", app_id},
        {"name", "application"},
        {"downloadLocation", kNoAssertion},
        {"filesAnalyzed", true},
        {"packageVerificationCode", {{"packageVerificationCodeValue", sha1_hex(joined)}}},
        {"licenseConcluded", kNoAssertion},
        {"licenseDeclared", kNoAssertion},
        {"licenseInfoFromFiles", json::array({kNoAssertion})},
        {"copyrightText", kNoAssertion},
        {"primaryPackagePurpose", "APPLICATION"},
    });
    relationships.push_back(relationship(image_id, "CONTAINS", app_id));
  }

  json doc = {
      {"spdxVersion", "SPDX-2.3"},
      {"dataLicense", "CC0-1.0"},
      {"SPDXID", "SPDXRef-DOCUMENT"},
      {"name", input.image_name},
      // Unique per image (name and manifest) yet reproducible.
      {"documentNamespace",
       "https://dslim.invalid/spdx/" + percent_encode(input.image_name) + "-" + hex},
      {"creationInfo",
       {{"created", input.created},
        {"creators", json::array({"Tool: dslim-" + input.tool_version})}}},
      {"packages", std::move(spdx_packages)},
      {"relationships", std::move(relationships)},
  };
  if (!spdx_files.empty()) doc["files"] = std::move(spdx_files);
  // Every LicenseRef an expression uses is defined in the document (SPDX 2.3
  // §10): a name the Debian copyright file gives that SPDX has no id for.
  std::set<std::string> refs;
  for (const Package& p : packages) {
    for (size_t at = p.license.find("LicenseRef-"); at != std::string::npos;
         at = p.license.find("LicenseRef-", at + 1)) {
      const size_t end = p.license.find_first_not_of(
          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-", at + 11);
      refs.insert(p.license.substr(at, end == std::string::npos ? end : end - at));
    }
  }
  if (!refs.empty()) {
    json infos = json::array();
    for (const auto& ref : refs)
      infos.push_back(
          {{"licenseId", ref},
           {"name", ref.substr(11)},
           {"extractedText", "A licence the package's copyright file names " + ref.substr(11) +
                                 "; its text is in that file (/usr/share/doc/PACKAGE/copyright)"}});
    doc["hasExtractedLicensingInfos"] = std::move(infos);
  }
  // Paths need not be UTF-8; replace what is not rather than throw.
  return doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace dslim::packages
