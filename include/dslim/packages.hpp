#pragma once
// Packages of a root (DESIGN.md §2, `packages` stage): which package of the
// source's database owns each file an image keeps, the trimmed database and
// licence files that let scanners see those packages in the image, and the
// SBOM documents that list them.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "dslim/rootfs.hpp"

namespace dslim::packages {

enum class Ecosystem { Deb, Apk };

struct Package {
  Ecosystem ecosystem = Ecosystem::Deb;
  std::string name;
  std::string version;       // exactly as the database has it ("1:2.3-4", "1.2.5-r0")
  std::string architecture;  // "amd64", "all", "x86_64"
  std::string license;       // an SPDX expression, or "NOASSERTION"
  std::string purl;          // pkg:deb/debian/libssl3@3.0.17-1~deb12u2?arch=amd64&distro=debian-12
};

// A package database read through RootFs: dpkg's (/var/lib/dpkg/status and
// info/*.list, or distroless's status.d/), or apk's (/lib/apk/db/installed).
class PackageDb {
 public:
  virtual ~PackageDb() = default;
  virtual Ecosystem ecosystem() const = 0;
  // Where the database lies in the root ("/var/lib/dpkg/status").
  virtual std::string location() const = 0;
  // The package owning each of `paths` that a package owns (path -> name).
  // Paths are physical (no symlink among their directories); the lists' are
  // resolved the same way, so a merged-/usr root's /lib/x.so is found as
  // /usr/lib/x.so. Only list lines whose file name is one of `paths`' are
  // resolved: a machine's dpkg lists hold ~160,000 lines.
  virtual std::map<std::string, std::string> owners(const std::set<std::string>& paths) const = 0;
  virtual const Package* find(const std::string& name) const = 0;
  // Every installed package, licences included, sorted by name.
  virtual std::vector<Package> all() const = 0;
  // The files that describe exactly `kept` packages in an image (path ->
  // contents): dpkg's trimmed status, apk's trimmed installed.
  virtual std::map<std::string, std::string> metadata(const std::set<std::string>& kept) const = 0;
  // Where the licence text of a package lies in the root (Debian's
  // /usr/share/doc/NAME/copyright), when the package has one.
  virtual std::optional<std::string> licence_file(const std::string& name) const = 0;
};

// The database of `fs`; nullptr when it has none (scratch, a root without a
// package manager). `fs` must outlive it. Throws dslim::Error naming the
// file for a database that is there but unreadable.
std::unique_ptr<PackageDb> read_package_db(const rootfs::RootFs& fs);

// The licence of a Debian copyright file as an SPDX expression: the License
// fields of a machine-readable (DEP-5) file, Debian's short names mapped to
// SPDX ids, joined by AND; "NOASSERTION" for a free-form file.
std::string debian_licence(const std::string& copyright);

// One file of the image that no package owns (an APP, an --add file).
struct AppFile {
  std::string path;    // in the image
  std::string sha1;    // hex (SPDX requires SHA-1 for files)
  std::string sha256;  // hex
};

// What an SBOM describes: the image and what is in it.
struct SbomInput {
  std::string image_name;         // the output reference, as the user named it
  std::string manifest_digest;    // sha256:...
  std::string created;            // RFC 3339, from SOURCE_DATE_EPOCH
  std::string tool_version;       // "0.1.0"
  std::vector<Package> packages;  // sorted by name
  std::vector<AppFile> files;     // sorted by path
};

// The packages an SBOM lists (SPDX 2.x or CycloneDX 1.x JSON, dslim's or
// another tool's): those named by a pkg:deb or pkg:apk purl, sorted by name.
// Throws dslim::Error naming `what` for a document that is neither.
std::vector<Package> sbom_packages(std::string_view json, const std::string& what);

// The image's purl (purl-spec oci type): pkg:oci/<repository's last component>@sha256%3A<hex>.
std::string image_purl(const std::string& image_name, const std::string& manifest_digest);

// SPDX 2.3 JSON and CycloneDX 1.5 JSON; the same input gives the same bytes.
std::string spdx_json(const SbomInput& input);
std::string cyclonedx_json(const SbomInput& input);

}  // namespace dslim::packages
