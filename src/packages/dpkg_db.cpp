// dpkg's database: /var/lib/dpkg/status and info/NAME[:ARCH].list, or the
// status.d/NAME stanzas and NAME.md5sums lists that distroless images carry.
#include <algorithm>

#include "dslim/error.hpp"
#include "packages/package_db.hpp"

namespace dslim::packages {

namespace {

constexpr const char* kStatus = "/var/lib/dpkg/status";
constexpr const char* kStatusD = "/var/lib/dpkg/status.d";
constexpr const char* kInfo = "/var/lib/dpkg/info";
constexpr uint64_t kMaxList = 64ull << 20;

struct Stanza {
  std::string text;                           // as the file has it, ending in a newline
  std::map<std::string, std::string> fields;  // first lines only (what we read is one line)
};

// Stanzas are separated by blank lines; a field's continuation lines start
// with a space or a tab.
std::vector<Stanza> parse_stanzas(const std::string& text) {
  std::vector<Stanza> out;
  Stanza current;
  size_t at = 0;
  auto flush = [&] {
    if (!current.fields.empty()) out.push_back(std::move(current));
    current = {};
  };
  while (at < text.size()) {
    const size_t end = std::min(text.find('\n', at), text.size());
    const std::string line = text.substr(at, end - at);
    at = end + 1;
    if (line.find_first_not_of(" \t\r") == std::string::npos) {
      flush();
      continue;
    }
    current.text += line + "\n";
    if (line.front() == ' ' || line.front() == '\t') continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos || colon == 0) continue;
    const size_t value = line.find_first_not_of(" \t", colon + 1);
    current.fields[line.substr(0, colon)] =
        value == std::string::npos ? ""
                                   : line.substr(value, line.find_last_not_of(" \t\r") + 1 - value);
  }
  flush();
  return out;
}

class DpkgDb : public PackageDb {
 public:
  DpkgDb(const rootfs::RootFs& fs, std::string distro) : fs_(fs), distro_(std::move(distro)) {}

  // From status, or from status.d; false when the root has neither.
  bool read() {
    if (const auto status = rootfs::read_text(fs_, kStatus)) {
      for (auto& stanza : parse_stanzas(*status)) add(std::move(stanza), false);
    } else if (const auto dir = rootfs::resolve(fs_, kStatusD);
               dir && dir->stat.type == rootfs::FileType::Directory) {
      from_status_d_ = true;
      for (const auto& name : fs_.list(dir->path)) {
        if (name.ends_with(".md5sums")) continue;  // lists, not stanzas
        if (const auto text = rootfs::read_text(fs_, dir->path + "/" + name))
          for (auto& stanza : parse_stanzas(*text)) add(std::move(stanza), true);
      }
    } else {
      return false;
    }
    return true;
  }

  Ecosystem ecosystem() const override { return Ecosystem::Deb; }
  std::string location() const override { return from_status_d_ ? kStatusD : kStatus; }

  std::map<std::string, std::string> owners(const std::set<std::string>& paths) const override {
    OwnerMatcher matcher(fs_, paths);
    // The lists' directory once, then each list by its name in it.
    const auto dir = rootfs::resolve(fs_, from_status_d_ ? kStatusD : kInfo);
    if (!dir || dir->stat.type != rootfs::FileType::Directory) return {};
    // One buffer for every list, grown to the largest: a machine has ~1,000
    // of them, and a fresh zeroed string for each cost more than the reads.
    std::string buffer;
    auto read = [&](const std::string& file) -> std::optional<std::string_view> {
      const std::string path = dir->path + "/" + file;
      const auto st = fs_.lstat(path);
      if (!st || st->type != rootfs::FileType::Regular) return std::nullopt;
      if (st->size > kMaxList)
        throw Error(path + " in " + fs_.describe() + ": " + std::to_string(st->size) +
                    " bytes, more than the 64 MiB a package's file list may have");
      const auto reader = fs_.open_reader(path, *st);
      if (buffer.size() < reader->size()) buffer.resize(reader->size());
      reader->read(0, std::as_writable_bytes(std::span(buffer.data(), reader->size())));
      return std::string_view(buffer.data(), reader->size());
    };
    for (const auto& e : entries_) {
      const std::string& name = e.package.name;
      std::optional<std::string_view> text =
          from_status_d_ ? read(name + ".md5sums") : read(name + ".list");
      if (!text && !from_status_d_) text = read(name + ":" + e.package.architecture + ".list");
      if (!text) continue;
      std::string_view rest = *text;
      while (!rest.empty()) {
        const size_t end = std::min(rest.find('\n'), rest.size());
        std::string_view line = rest.substr(0, end);
        rest.remove_prefix(std::min(end + 1, rest.size()));
        if (from_status_d_) {
          // "<md5>  usr/lib/x.so": the path after two spaces, relative.
          const size_t sep = line.find("  ");
          if (sep == std::string_view::npos) continue;
          line.remove_prefix(sep + 2);
        }
        matcher.match(line, name);
      }
    }
    return matcher.take();
  }

  const Package* find(const std::string& name) const override {
    const auto it = index_.find(name);
    return it == index_.end() ? nullptr : &with_licence(entries_[it->second]);
  }

  std::vector<Package> all() const override {
    std::vector<Package> out;
    for (auto& e : entries_) out.push_back(with_licence(e));
    std::stable_sort(out.begin(), out.end(),
                     [](const Package& a, const Package& b) { return a.name < b.name; });
    return out;
  }

  std::map<std::string, std::string> metadata(const std::set<std::string>& kept) const override {
    std::string status;
    for (const auto& e : entries_) {
      if (!kept.contains(e.package.name)) continue;
      if (!status.empty()) status += "\n";
      status += e.text;
    }
    if (status.empty()) return {};
    return {{kStatus, status}};
  }

  std::optional<std::string> licence_file(const std::string& name) const override {
    const std::string path = "/usr/share/doc/" + name + "/copyright";
    const auto found = rootfs::resolve(fs_, path);
    if (!found || found->stat.type != rootfs::FileType::Regular) return std::nullopt;
    return path;
  }

 private:
  struct Entry {
    Package package;
    std::string text;  // the stanza, as an image's status file will hold it
  };

  const Package& with_licence(Entry& e) const {
    if (e.package.license.empty()) {
      const auto file = licence_file(e.package.name);
      const auto text = file ? rootfs::read_text(fs_, *file) : std::nullopt;
      e.package.license = text ? debian_licence(*text) : "NOASSERTION";
    }
    return e.package;
  }

  void add(Stanza stanza, bool status_d) {
    const auto& f = stanza.fields;
    const auto name = f.find("Package");
    if (name == f.end() || name->second.empty()) return;
    const auto status = f.find("Status");
    // status.d stanzas have no Status: what is there is installed.
    if (status == f.end() ? !status_d : !status->second.ends_with(" installed")) return;

    Entry e;
    e.package.ecosystem = Ecosystem::Deb;
    e.package.name = name->second;
    e.package.version = f.contains("Version") ? f.at("Version") : "";
    e.package.architecture = f.contains("Architecture") ? f.at("Architecture") : "";
    e.package.purl = make_purl("deb", "debian", e.package.name, e.package.version,
                               e.package.architecture, distro_);
    e.text = stanza.text;
    if (status == f.end()) {
      // dpkg-query takes a stanza without Status as not installed.
      const size_t line = e.text.find('\n');
      e.text.insert(line + 1, "Status: install ok installed\n");
    }
    // Another architecture's stanza of a name (multiarch) is kept too, and
    // its list read; the name finds the first.
    index_.emplace(e.package.name, entries_.size());
    entries_.push_back(std::move(e));
  }

  const rootfs::RootFs& fs_;
  std::string distro_;
  bool from_status_d_ = false;
  mutable std::vector<Entry> entries_;  // status order; licences filled when asked for
  std::map<std::string, size_t> index_;
};

}  // namespace

std::unique_ptr<PackageDb> read_dpkg_db(const rootfs::RootFs& fs, const std::string& distro) {
  auto db = std::make_unique<DpkgDb>(fs, distro);
  if (!db->read()) return nullptr;
  return db;
}

}  // namespace dslim::packages
