// Finding a root's package database, and what its readers share.
#include "packages/package_db.hpp"

#include "dslim/error.hpp"
#include "packages/spelling.hpp"

namespace dslim::packages {

namespace {

std::string os_release_value(const std::string& text, const std::string& key) {
  size_t at = 0;
  while (at < text.size()) {
    size_t end = std::min(text.find('\n', at), text.size());
    const std::string line = text.substr(at, end - at);
    at = end + 1;
    if (!line.starts_with(key + "=")) continue;
    std::string value = line.substr(key.size() + 1);
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front())
      value = value.substr(1, value.size() - 2);
    return value;
  }
  return "";
}

}  // namespace

std::string distro_of(const rootfs::RootFs& fs) {
  auto text = rootfs::read_text(fs, "/etc/os-release");
  if (!text) text = rootfs::read_text(fs, "/usr/lib/os-release");
  if (!text) return "";
  const std::string id = os_release_value(*text, "ID");
  const std::string version = os_release_value(*text, "VERSION_ID");
  if (id.empty()) return "";
  return version.empty() ? id : id + "-" + version;
}

std::string make_purl(const std::string& type, const std::string& ns, const std::string& name,
                      const std::string& version, const std::string& arch,
                      const std::string& distro) {
  std::string purl = "pkg:" + type + "/" + percent_encode(ns) + "/" + percent_encode(name) + "@" +
                     percent_encode(version);
  std::string qualifiers;
  if (!arch.empty()) qualifiers += "arch=" + percent_encode(arch);
  if (!distro.empty())
    qualifiers += (qualifiers.empty() ? "" : "&") + ("distro=" + percent_encode(distro));
  return qualifiers.empty() ? purl : purl + "?" + qualifiers;
}

std::string ListedPaths::physical(const std::string& listed) {
  const std::string path = rootfs::normalize(listed.starts_with('/') ? listed : "/" + listed);
  if (path == "/") return path;
  const std::string dir = rootfs::parent_dir(path);
  auto it = dirs_.find(dir);
  if (it == dirs_.end()) {
    const auto found = resolver_.resolve(dir);
    // A directory the root lacks: the path as listed.
    it = dirs_.emplace(dir, found ? (found->path == "/" ? "" : found->path) : dir).first;
  }
  return it->second + "/" + path.substr(path.find_last_of('/') + 1);
}

OwnerMatcher::OwnerMatcher(const rootfs::RootFs& fs, const std::set<std::string>& paths)
    : listed_(fs), paths_(paths) {
  for (const auto& p : paths) names_.insert(std::string_view(p).substr(p.find_last_of('/') + 1));
}

void OwnerMatcher::match(std::string_view listed, const std::string& package) {
  const auto slash = listed.find_last_of('/');
  if (slash == std::string_view::npos || !names_.contains(listed.substr(slash + 1))) return;
  std::string path = listed_.physical(std::string(listed));
  if (paths_.contains(path)) found_.emplace(std::move(path), package);
}

std::unique_ptr<PackageDb> read_package_db(const rootfs::RootFs& fs) {
  const std::string distro = distro_of(fs);
  if (auto db = read_dpkg_db(fs, distro)) return db;
  return read_apk_db(fs, distro);
}

}  // namespace dslim::packages
