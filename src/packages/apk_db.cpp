// apk's database: /lib/apk/db/installed, one block per package (P: name,
// V: version, A: architecture, L: licence; F: a directory, then R: each of
// its files), blocks separated by blank lines.
#include <algorithm>

#include "packages/package_db.hpp"

namespace dslim::packages {

namespace {

constexpr const char* kInstalled = "/lib/apk/db/installed";

class ApkDb : public PackageDb {
 public:
  ApkDb(const rootfs::RootFs& fs, const std::string& text, const std::string& distro) : fs_(fs) {
    Entry e;
    std::string dir;
    auto flush = [&] {
      if (!e.package.name.empty() && !index_.contains(e.package.name)) {
        e.package.ecosystem = Ecosystem::Apk;
        if (e.package.license.empty()) e.package.license = "NOASSERTION";
        e.package.purl = make_purl("apk", "alpine", e.package.name, e.package.version,
                                   e.package.architecture, distro);
        index_[e.package.name] = entries_.size();
        entries_.push_back(std::move(e));
      }
      e = {};
      dir.clear();
    };
    size_t at = 0;
    while (at < text.size()) {
      const size_t end = std::min(text.find('\n', at), text.size());
      const std::string line = text.substr(at, end - at);
      at = end + 1;
      if (line.empty()) {
        flush();
        continue;
      }
      e.text += line + "\n";
      if (line.size() < 2 || line[1] != ':') continue;
      const std::string value = line.substr(2);
      switch (line[0]) {
        case 'P':
          e.package.name = value;
          break;
        case 'V':
          e.package.version = value;
          break;
        case 'A':
          e.package.architecture = value;
          break;
        case 'L':
          e.package.license = value;
          break;
        case 'F':
          dir = value;
          break;
        case 'R':
          e.files.push_back("/" + (dir.empty() ? value : dir + "/" + value));
          break;
        default:
          break;
      }
    }
    flush();
  }

  Ecosystem ecosystem() const override { return Ecosystem::Apk; }
  std::string location() const override { return kInstalled; }

  std::map<std::string, std::string> owners(const std::set<std::string>& paths) const override {
    OwnerMatcher matcher(fs_, paths);
    for (const auto& e : entries_)
      for (const auto& path : e.files) matcher.match(path, e.package.name);
    return matcher.take();
  }

  const Package* find(const std::string& name) const override {
    const auto it = index_.find(name);
    return it == index_.end() ? nullptr : &entries_[it->second].package;
  }

  std::vector<Package> all() const override {
    std::vector<Package> out;
    for (const auto& e : entries_) out.push_back(e.package);
    std::stable_sort(out.begin(), out.end(),
                     [](const Package& a, const Package& b) { return a.name < b.name; });
    return out;
  }

  std::map<std::string, std::string> metadata(const std::set<std::string>& kept) const override {
    std::string installed;
    for (const auto& e : entries_) {
      if (!kept.contains(e.package.name)) continue;
      installed += e.text + "\n";  // each block ends with a blank line, as apk writes it
    }
    if (installed.empty()) return {};
    return {{kInstalled, installed}};
  }

  // Alpine ships licence texts in separate -doc packages, if at all.
  std::optional<std::string> licence_file(const std::string&) const override {
    return std::nullopt;
  }

 private:
  struct Entry {
    Package package;
    std::string text;
    std::vector<std::string> files;
  };
  const rootfs::RootFs& fs_;
  std::vector<Entry> entries_;
  std::map<std::string, size_t> index_;
};

}  // namespace

std::unique_ptr<PackageDb> read_apk_db(const rootfs::RootFs& fs, const std::string& distro) {
  const auto text = rootfs::read_text(fs, kInstalled);
  if (!text) return nullptr;
  return std::make_unique<ApkDb>(fs, *text, distro);
}

}  // namespace dslim::packages
