// Debian copyright files (DEP-5, "copyright-format/1.0") to SPDX licence
// expressions: each Files paragraph's License names, Debian's short names
// mapped to SPDX ids, the paragraphs joined by AND.
#include <algorithm>
#include <cctype>
#include <map>
#include <vector>

#include "dslim/packages.hpp"
#include "packages/spelling.hpp"

namespace dslim::packages {

namespace {

std::string trim(const std::string& text) {
  const size_t a = text.find_first_not_of(" \t\r");
  if (a == std::string::npos) return "";
  return text.substr(a, text.find_last_not_of(" \t\r") + 1 - a);
}

// Debian's short names (copyright-format 1.0, and what packages write) by
// their lowercase spelling.
const std::map<std::string, std::string>& spdx_ids() {
  static const std::map<std::string, std::string> ids = {
      {"gpl-1", "GPL-1.0-only"},
      {"gpl-1+", "GPL-1.0-or-later"},
      {"gpl-2", "GPL-2.0-only"},
      {"gpl-2+", "GPL-2.0-or-later"},
      {"gpl-3", "GPL-3.0-only"},
      {"gpl-3+", "GPL-3.0-or-later"},
      {"gplv2", "GPL-2.0-only"},
      {"gplv2+", "GPL-2.0-or-later"},
      {"gplv3", "GPL-3.0-only"},
      {"gplv3+", "GPL-3.0-or-later"},
      {"lgpl-2", "LGPL-2.0-only"},
      {"lgpl-2+", "LGPL-2.0-or-later"},
      {"lgpl-2.1", "LGPL-2.1-only"},
      {"lgpl-2.1+", "LGPL-2.1-or-later"},
      {"lgplv2.1+", "LGPL-2.1-or-later"},
      {"lgpl-3", "LGPL-3.0-only"},
      {"lgpl-3+", "LGPL-3.0-or-later"},
      {"lgplv3+", "LGPL-3.0-or-later"},
      {"agpl-3", "AGPL-3.0-only"},
      {"agpl-3+", "AGPL-3.0-or-later"},
      {"gfdl-1.2", "GFDL-1.2-only"},
      {"gfdl-1.2+", "GFDL-1.2-or-later"},
      {"gfdl-1.3", "GFDL-1.3-only"},
      {"gfdl-1.3+", "GFDL-1.3-or-later"},
      {"apache-2", "Apache-2.0"},
      {"apache-2.0", "Apache-2.0"},
      {"artistic", "Artistic-1.0"},
      {"artistic-1", "Artistic-1.0"},
      {"artistic-2", "Artistic-2.0"},
      {"artistic-2.0", "Artistic-2.0"},
      {"bsd-2-clause", "BSD-2-Clause"},
      {"bsd-3-clause", "BSD-3-Clause"},
      {"bsd-4-clause", "BSD-4-Clause"},
      {"bsd-4-clause-uc", "BSD-4-Clause-UC"},
      {"expat", "MIT"},
      {"mit", "MIT"},
      {"isc", "ISC"},
      {"zlib", "Zlib"},
      {"mpl-1.1", "MPL-1.1"},
      {"mpl-2.0", "MPL-2.0"},
      {"cc0-1.0", "CC0-1.0"},
      {"cc0", "CC0-1.0"},
      {"openssl", "OpenSSL"},
      {"ssleay", "SSLeay-standalone"},
      {"curl", "curl"},
      {"x11", "X11"},
      {"psf-2", "PSF-2.0"},
      {"python-2.0", "Python-2.0"},
      {"bsl-1.0", "BSL-1.0"},
      {"openldap-2.8", "OLDAP-2.8"},
      {"fsfullr", "FSFULLR"},
      {"fsful", "FSFUL"},
      {"unicode-dfs-2016", "Unicode-DFS-2016"},
      {"ftl", "FTL"},
      {"ofl-1.1", "OFL-1.1"},
      {"sleepycat", "Sleepycat"},
      {"beerware", "Beerware"},
      {"latex2e", "Latex2e"},
      {"wtfpl", "WTFPL"},
      {"unlicense", "Unlicense"},
  };
  return ids;
}

// One name: an SPDX id, else LicenseRef-NAME (letters, digits, . and -).
std::string spdx_id(const std::string& name) {
  const auto& ids = spdx_ids();
  std::string key = ascii_lower(name);
  // "GPL-2.0+" and "LGPL-3.0" as packages write them: Debian's "GPL-2+", "LGPL-3".
  for (const char* family : {"gpl-", "lgpl-", "agpl-"}) {
    if (!key.starts_with(family)) continue;
    const size_t dot = key.find(".0", std::string_view(family).size());
    if (dot != std::string::npos && (dot + 2 == key.size() || key[dot + 2] == '+'))
      key.erase(dot, 2);
  }
  if (const auto it = ids.find(key); it != ids.end()) return it->second;
  std::string ref = "LicenseRef-";
  for (char c : name) ref += std::isalnum(static_cast<unsigned char>(c)) || c == '.' ? c : '-';
  return ref;
}

// "GPL-2+ or Artistic" -> "GPL-2.0-or-later OR Artistic-1.0"; "and" binds
// tighter than "or" in both syntaxes, so the operators carry over.
std::string simple_expression(const std::string& names) {
  std::vector<std::string> words;
  std::string word;
  for (char c : names + " ") {
    if (c == ' ' || c == '\t') {
      if (!word.empty()) words.push_back(word);
      word.clear();
    } else {
      word += c;
    }
  }
  std::string out, pending;  // pending: a name, possibly "X with Y exception"
  auto flush = [&] {
    if (!pending.empty()) out += spdx_id(pending);
    pending.clear();
  };
  for (const auto& w : words) {
    const std::string l = ascii_lower(w);
    if (l == "or" || l == "and") {
      flush();
      if (!out.empty()) out += l == "or" ? " OR " : " AND ";
    } else {
      pending += (pending.empty() ? "" : "-") + w;
    }
  }
  flush();
  if (out.ends_with(" OR ") || out.ends_with(" AND "))
    out = out.substr(0, out.rfind(' ', out.size() - 2));
  return out;
}

// Commas group more loosely than both (copyright-format 1.0: "A or B, and C"
// is (A or B) and C): each group is one operand of the operator after its comma.
std::string expression(const std::string& names) {
  std::vector<std::pair<std::string, std::string>> groups;  // (operator before, expression)
  size_t at = 0;
  while (at <= names.size()) {
    const size_t comma = std::min(names.find(',', at), names.size());
    std::string part = trim(names.substr(at, comma - at));
    at = comma + 1;
    std::string op = groups.empty() ? "" : " AND ";
    const std::string l = ascii_lower(part);
    if (l.starts_with("and ")) part = trim(part.substr(4));
    if (l.starts_with("or ")) {
      op = " OR ";
      part = trim(part.substr(3));
    }
    const std::string e = simple_expression(part);
    if (!e.empty()) groups.emplace_back(groups.empty() ? "" : op, e);
    if (comma == names.size()) break;
  }
  if (groups.size() == 1) return groups.front().second;
  std::string out;
  for (const auto& [op, e] : groups)
    out += op + (e.find(' ') != std::string::npos ? "(" + e + ")" : e);
  return out;
}

}  // namespace

std::string debian_licence(const std::string& copyright) {
  if (copyright.find("copyright-format") == std::string::npos || !copyright.starts_with("Format:"))
    return "NOASSERTION";
  std::vector<std::string> exprs;
  bool in_files = false;
  size_t at = 0;
  while (at <= copyright.size()) {
    const size_t end = std::min(copyright.find('\n', at), copyright.size());
    const std::string line = copyright.substr(at, end - at);
    at = end + 1;
    if (trim(line).empty()) {
      in_files = false;  // a paragraph ends
      if (end == copyright.size()) break;
      continue;
    }
    if (line.starts_with("Files:")) in_files = true;
    if (in_files && line.starts_with("License:")) {
      const std::string names = trim(line.substr(8));
      if (names.empty()) continue;
      const std::string e = expression(names);
      if (!e.empty() && std::find(exprs.begin(), exprs.end(), e) == exprs.end()) exprs.push_back(e);
    }
    if (end == copyright.size()) break;
  }
  if (exprs.empty()) return "NOASSERTION";
  if (exprs.size() == 1) return exprs.front();
  std::string out;
  for (const auto& e : exprs)
    out += (out.empty() ? "" : " AND ") + (e.find(" OR ") != std::string::npos ? "(" + e + ")" : e);
  return out;
}

}  // namespace dslim::packages
