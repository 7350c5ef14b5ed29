// Tests for src/packages/: dpkg and apk databases read through RootFs, which
// package owns a kept file (merged /usr), the trimmed metadata, purls and
// Debian copyright files as SPDX expressions.
#include <catch2/catch.hpp>

#include "dslim/packages.hpp"

using namespace dslim;
using namespace dslim::packages;

namespace {

constexpr const char* kOsRelease =
    "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n";

// A merged-/usr Debian root: /lib -> usr/lib, lists naming /lib/...
rootfs::MemRootFs debian_root() {
  rootfs::MemRootFs fs;
  fs.add_symlink("/lib", "usr/lib");
  fs.add_file("/usr/lib/os-release", kOsRelease);
  fs.add_symlink("/etc/os-release", "../usr/lib/os-release");
  fs.add_file("/usr/lib/x86_64-linux-gnu/libc.so.6", "c");
  fs.add_file("/usr/lib/x86_64-linux-gnu/libz.so.1.2.13", "z");
  fs.add_symlink("/usr/lib/x86_64-linux-gnu/libz.so.1", "libz.so.1.2.13");
  fs.add_file("/usr/bin/tool", "t");
  fs.add_file("/var/lib/dpkg/status",
              "Package: libc6\n"
              "Status: install ok installed\n"
              "Architecture: amd64\n"
              "Version: 2.36-9+deb12u14\n"
              "Description: GNU C Library\n"
              " continued line\n"
              "\n"
              "Package: zlib1g\n"
              "Status: install ok installed\n"
              "Architecture: amd64\n"
              "Version: 1:1.2.13.dfsg-1\n"
              "\n"
              "Package: removed\n"
              "Status: deinstall ok config-files\n"
              "Version: 1\n"
              "\n"
              "Package: tool\n"
              "Status: install ok installed\n"
              "Architecture: all\n"
              "Version: 3\n");
  fs.add_file("/var/lib/dpkg/info/libc6:amd64.list",
              "/.\n/lib\n/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu/libc.so.6\n");
  fs.add_file(
      "/var/lib/dpkg/info/zlib1g:amd64.list",
      "/.\n/usr/lib/x86_64-linux-gnu/libz.so.1.2.13\n/usr/lib/x86_64-linux-gnu/libz.so.1\n");
  fs.add_file("/var/lib/dpkg/info/tool.list", "/.\n/usr\n/usr/bin\n/usr/bin/tool\n");
  fs.add_file("/usr/share/doc/zlib1g/copyright",
              "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
              "Files: *\nCopyright: someone\nLicense: Zlib\n\nLicense: Zlib\n text\n");
  fs.add_dir("/usr/share/doc/libc6");
  fs.add_file("/usr/share/doc/libc6/copyright", "This is the GNU C library, free-form.\n");
  return fs;
}

}  // namespace

TEST_CASE("dpkg: owners through merged /usr, versions, purls, licences", "[packages]") {
  const auto fs = debian_root();
  const auto db = read_package_db(fs);
  REQUIRE(db);
  CHECK(db->ecosystem() == Ecosystem::Deb);
  const std::set<std::string> kept{"/usr/lib/x86_64-linux-gnu/libc.so.6",
                                   "/usr/lib/x86_64-linux-gnu/libz.so.1", "/etc/passwd"};
  const auto owners = db->owners(kept);
  CHECK(owners ==
        std::map<std::string, std::string>{{"/usr/lib/x86_64-linux-gnu/libc.so.6", "libc6"},
                                           {"/usr/lib/x86_64-linux-gnu/libz.so.1", "zlib1g"}});
  const Package* z = db->find("zlib1g");
  REQUIRE(z);
  CHECK(z->version == "1:1.2.13.dfsg-1");
  CHECK(z->architecture == "amd64");
  CHECK(z->purl == "pkg:deb/debian/zlib1g@1%3A1.2.13.dfsg-1?arch=amd64&distro=debian-12");
  CHECK(z->license == "Zlib");
  CHECK(db->find("libc6")->license == "NOASSERTION");  // not machine-readable
  CHECK(db->find("libc6")->purl ==
        "pkg:deb/debian/libc6@2.36-9%2Bdeb12u14?arch=amd64&distro=debian-12");
  CHECK_FALSE(db->find("removed"));  // not installed
  CHECK(db->licence_file("zlib1g") == "/usr/share/doc/zlib1g/copyright");
  CHECK_FALSE(db->licence_file("tool"));

  const auto meta = db->metadata({"zlib1g", "libc6"});
  REQUIRE(meta.size() == 1);
  // The kept stanzas verbatim, in the source's order, and nothing else.
  CHECK(meta.at("/var/lib/dpkg/status") ==
        "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\n"
        "Version: 2.36-9+deb12u14\nDescription: GNU C Library\n continued line\n"
        "\n"
        "Package: zlib1g\nStatus: install ok installed\nArchitecture: amd64\n"
        "Version: 1:1.2.13.dfsg-1\n");
  CHECK(db->metadata({}).empty());
}

TEST_CASE("dpkg: distroless status.d stanzas and md5sums lists", "[packages]") {
  rootfs::MemRootFs fs;
  fs.add_file("/etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n");
  fs.add_file("/usr/lib/x86_64-linux-gnu/libssl.so.3", "s");
  fs.add_file("/var/lib/dpkg/status.d/libssl3",
              "Package: libssl3\nVersion: 3.0.17-1~deb12u2\nArchitecture: amd64\n");
  fs.add_file("/var/lib/dpkg/status.d/libssl3.md5sums",
              "0123456789abcdef0123456789abcdef  usr/lib/x86_64-linux-gnu/libssl.so.3\n");
  const auto db = read_package_db(fs);
  REQUIRE(db);
  CHECK(db->owners({"/usr/lib/x86_64-linux-gnu/libssl.so.3"})
            .at("/usr/lib/x86_64-linux-gnu/libssl.so.3") == "libssl3");
  CHECK(db->find("libssl3")->purl ==
        "pkg:deb/debian/libssl3@3.0.17-1~deb12u2?arch=amd64&distro=debian-12");
  // dpkg-query takes a stanza without Status as not installed: one is added.
  CHECK(db->metadata({"libssl3"}).at("/var/lib/dpkg/status") ==
        "Package: libssl3\nStatus: install ok installed\nVersion: 3.0.17-1~deb12u2\n"
        "Architecture: amd64\n");
}

TEST_CASE("apk: F/R lines, licences, the trimmed installed file", "[packages]") {
  rootfs::MemRootFs fs;
  fs.add_file("/etc/os-release", "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.20.3\n");
  fs.add_file("/lib/ld-musl-x86_64.so.1", "m");
  fs.add_file("/bin/busybox", "b");
  const std::string musl =
      "C:Q1abc=\nP:musl\nV:1.2.5-r0\nA:x86_64\nL:MIT\nF:lib\nR:ld-musl-x86_64.so.1\n";
  const std::string busybox =
      "P:busybox\nV:1.36.1-r29\nA:x86_64\nL:GPL-2.0-only\nF:bin\nR:busybox\n";
  fs.add_file("/lib/apk/db/installed", musl + "\n" + busybox + "\n");
  const auto db = read_package_db(fs);
  REQUIRE(db);
  CHECK(db->ecosystem() == Ecosystem::Apk);
  CHECK(db->owners({"/lib/ld-musl-x86_64.so.1"}).at("/lib/ld-musl-x86_64.so.1") == "musl");
  const Package* m = db->find("musl");
  REQUIRE(m);
  CHECK(m->license == "MIT");
  CHECK(m->purl == "pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=alpine-3.20.3");
  CHECK(db->metadata({"musl"}).at("/lib/apk/db/installed") == musl + "\n");
  CHECK_FALSE(db->licence_file("musl"));
}

TEST_CASE("no database: scratch roots and plain directories", "[packages]") {
  rootfs::MemRootFs fs;
  fs.add_file("/app", "x");
  CHECK_FALSE(read_package_db(fs));
}

TEST_CASE("Debian copyright files as SPDX expressions", "[packages]") {
  const std::string head =
      "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
      "Upstream-Name: x\n\n";
  CHECK(debian_licence(head + "Files: *\nCopyright: a\nLicense: GPL-2+\n") == "GPL-2.0-or-later");
  CHECK(debian_licence(head + "Files: *\nCopyright: a\nLicense: Apache-2.0\n\n"
                              "Files: crypto/*\nCopyright: b\nLicense: GPL-1+ or Artistic\n\n"
                              "Files: x/*\nCopyright: c\nLicense: Apache-2.0\n\n"
                              "License: Apache-2.0\n the text\n") ==
        "Apache-2.0 AND (GPL-1.0-or-later OR Artistic-1.0)");
  CHECK(debian_licence(head + "Files: *\nLicense: BSD-3-clause and Expat\n") ==
        "BSD-3-Clause AND MIT");
  // Names SPDX lacks become LicenseRefs, still valid expressions.
  CHECK(debian_licence(head + "Files: *\nLicense: GPL-3+ with Bison exception\n") ==
        "LicenseRef-GPL-3--with-Bison-exception");
  CHECK(debian_licence(head + "Files: *\nLicense: public-domain\n") == "LicenseRef-public-domain");
  // Free-form files, and License paragraphs alone, say nothing.
  CHECK(debian_licence("This package was debianized by someone.\nLicense: GPL\n") == "NOASSERTION");
  CHECK(debian_licence(head + "License: MIT\n text\n") == "NOASSERTION");
}

TEST_CASE("copyright licences: commas group, .0 spellings, SPDX precedence kept", "[packages]") {
  const std::string head =
      "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n";
  // "A or B, and C" is (A or B) and C.
  CHECK(debian_licence(head + "Files: *\nLicense: GPL-2+ or Artistic-2.0, and BSD-3-clause\n") ==
        "(GPL-2.0-or-later OR Artistic-2.0) AND BSD-3-Clause");
  CHECK(debian_licence(head + "Files: *\nLicense: REGCOMP, and GPL-1+ or Artistic\n") ==
        "LicenseRef-REGCOMP AND (GPL-1.0-or-later OR Artistic-1.0)");
  CHECK(debian_licence(head + "Files: *\nLicense: GPL-2.0+\n\nFiles: a\nLicense: LGPL-3.0\n") ==
        "GPL-2.0-or-later AND LGPL-3.0-only");
}
