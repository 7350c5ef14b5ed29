// Reading the packages back out of an SBOM (`dslim inspect --sbom` on an
// image whose only package record is an attached document). Packages are
// recognized by their purl, which every SBOM tool writes, so SPDX and
// CycloneDX documents from syft or trivy read as well as dslim's own.
#include <nlohmann/json.hpp>

#include <algorithm>

#include "dslim/error.hpp"
#include "dslim/packages.hpp"
#include "packages/spelling.hpp"

namespace dslim::packages {
namespace {

using nlohmann::json;

// Ecosystem and architecture from "pkg:deb/debian/libc6@2.36?arch=amd64&distro=…".
std::optional<Package> from_purl(const std::string& purl) {
  Package p;
  if (purl.starts_with("pkg:deb/")) {
    p.ecosystem = Ecosystem::Deb;
  } else if (purl.starts_with("pkg:apk/")) {
    p.ecosystem = Ecosystem::Apk;
  } else {
    return std::nullopt;
  }
  p.purl = purl;
  const size_t query = purl.find('?');
  if (query == std::string::npos) return p;
  std::string_view rest = std::string_view(purl).substr(query + 1);
  rest = rest.substr(0, rest.find('#'));
  while (!rest.empty()) {
    const size_t amp = std::min(rest.find('&'), rest.size());
    const std::string_view pair = rest.substr(0, amp);
    if (pair.starts_with("arch=")) p.architecture = percent_decode(pair.substr(5));
    rest.remove_prefix(std::min(amp + 1, rest.size()));
  }
  return p;
}

std::string text_of(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

std::vector<Package> spdx_packages(const json& doc) {
  std::vector<Package> out;
  const auto packages = doc.find("packages");
  if (packages == doc.end() || !packages->is_array()) return out;
  for (const auto& entry : *packages) {
    if (!entry.is_object()) continue;
    const auto refs = entry.find("externalRefs");
    if (refs == entry.end() || !refs->is_array()) continue;
    for (const auto& ref : *refs) {
      if (!ref.is_object() || text_of(ref, "referenceType") != "purl") continue;
      auto p = from_purl(text_of(ref, "referenceLocator"));
      if (!p) continue;
      p->name = text_of(entry, "name");
      p->version = text_of(entry, "versionInfo");
      p->license = text_of(entry, "licenseDeclared");
      if (p->license.empty() || p->license == "NOASSERTION")
        p->license = text_of(entry, "licenseConcluded");
      if (p->license.empty()) p->license = "NOASSERTION";
      out.push_back(std::move(*p));
      break;
    }
  }
  return out;
}

std::string cyclonedx_licence(const json& component) {
  const auto licences = component.find("licenses");
  if (licences == component.end() || !licences->is_array()) return "NOASSERTION";
  std::vector<std::string> parts;
  for (const auto& l : *licences) {
    if (!l.is_object()) continue;
    if (auto e = text_of(l, "expression"); !e.empty()) {
      parts.push_back(e);
    } else if (const auto it = l.find("license"); it != l.end() && it->is_object()) {
      auto id = text_of(*it, "id");
      if (id.empty()) id = text_of(*it, "name");
      if (!id.empty()) parts.push_back(id);
    }
  }
  if (parts.empty()) return "NOASSERTION";
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : " AND ") + p;
  return out;
}

std::vector<Package> cyclonedx_packages(const json& doc) {
  std::vector<Package> out;
  const auto components = doc.find("components");
  if (components == doc.end() || !components->is_array()) return out;
  for (const auto& c : *components) {
    if (!c.is_object()) continue;
    auto p = from_purl(text_of(c, "purl"));
    if (!p) continue;
    p->name = text_of(c, "name");
    p->version = text_of(c, "version");
    p->license = cyclonedx_licence(c);
    out.push_back(std::move(*p));
  }
  return out;
}

}  // namespace

std::vector<Package> sbom_packages(std::string_view text, const std::string& what) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {
    throw Error(what + ": malformed JSON (" + e.what() + ")");
  }
  std::vector<Package> out;
  if (doc.is_object() && doc.contains("spdxVersion")) {
    out = spdx_packages(doc);
  } else if (doc.is_object() && text_of(doc, "bomFormat") == "CycloneDX") {
    out = cyclonedx_packages(doc);
  } else {
    throw Error(what + ": neither an SPDX nor a CycloneDX JSON document");
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Package& a, const Package& b) { return a.name < b.name; });
  return out;
}

}  // namespace dslim::packages
