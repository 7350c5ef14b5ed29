#pragma once
// What the dpkg and apk readers share: purls and where each listed path lies.
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "dslim/packages.hpp"

namespace dslim::packages {

// "debian-12", "alpine-3.20.3" from /etc/os-release (ID, VERSION_ID); ID
// alone without a version; "" without the file.
std::string distro_of(const rootfs::RootFs& fs);

// pkg:TYPE/NAMESPACE/NAME@VERSION?arch=ARCH&distro=DISTRO, each part
// percent-encoded as the purl spec asks ("1:2.3" -> "1%3A2.3").
std::string make_purl(const std::string& type, const std::string& ns, const std::string& name,
                      const std::string& version, const std::string& arch,
                      const std::string& distro);

// Where a listed path lies once its directories' symlinks are followed:
// dpkg's lists name /lib/x86_64-linux-gnu/libc.so.6, a merged-/usr root
// holds it at /usr/lib/...; the entry itself is not followed (a listed
// symlink is that symlink). Caches the directories it resolves.
class ListedPaths {
 public:
  explicit ListedPaths(const rootfs::RootFs& fs) : resolver_(fs) {}
  std::string physical(const std::string& listed);

 private:
  rootfs::PathResolver resolver_;
  std::unordered_map<std::string, std::string> dirs_;  // listed directory -> physical
};

// Matching list lines against the paths wanted: a line is resolved only when
// its file name is one of theirs.
class OwnerMatcher {
 public:
  OwnerMatcher(const rootfs::RootFs& fs, const std::set<std::string>& paths);
  // Records `package` for `listed` when it is one of the paths (the first
  // package to list a path keeps it).
  void match(std::string_view listed, const std::string& package);
  std::map<std::string, std::string> take() { return std::move(found_); }

 private:
  ListedPaths listed_;
  const std::set<std::string>& paths_;
  std::unordered_set<std::string_view> names_;
  std::map<std::string, std::string> found_;
};

std::unique_ptr<PackageDb> read_dpkg_db(const rootfs::RootFs& fs, const std::string& distro);
std::unique_ptr<PackageDb> read_apk_db(const rootfs::RootFs& fs, const std::string& distro);

}  // namespace dslim::packages
