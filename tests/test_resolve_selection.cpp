// Selection: --include trees and presets.
#include <catch2/catch.hpp>

#include "dslim/error.hpp"
#include "dslim/selection.hpp"

using namespace dslim;
using namespace dslim::resolve;
using rootfs::MemRootFs;
using rootfs::OverlayRootFs;

namespace {

bool has(const std::set<std::string>& s, const std::string& p) {
  return s.count(p) == 1;
}

MemRootFs source() {
  MemRootFs fs;
  fs.add_symlink("/etc/ssl/certs/ca-certificates.crt", "/usr/share/ca/bundle.pem");
  fs.add_file("/usr/share/ca/bundle.pem", "CERTS");
  fs.add_file("/usr/share/zoneinfo/Europe/Paris", "TZif");
  fs.add_symlink("/usr/share/zoneinfo/CET", "Europe/Paris");
  fs.add_symlink("/usr/share/zoneinfo/posix", ".");
  fs.add_symlink("/usr/share/zoneinfo/everything", "/");
  fs.add_symlink("/usr/share/zoneinfo/dangling", "nowhere");
  fs.add_file("/bin/sh", "ELF...", 0755);
  return fs;
}

}  // namespace

TEST_CASE("select_tree takes links on the way, the entry, and a directory's contents") {
  MemRootFs fs = source();
  std::set<std::string> out;
  select_tree(fs, "/etc/ssl/certs/ca-certificates.crt", out);
  CHECK(out ==
        std::set<std::string>{"/etc/ssl/certs/ca-certificates.crt", "/usr/share/ca/bundle.pem"});
  out.clear();
  select_tree(fs, "/usr/share/zoneinfo", out);
  CHECK(has(out, "/usr/share/zoneinfo/Europe/Paris"));
  CHECK(has(out, "/usr/share/zoneinfo/CET"));
  CHECK(has(out, "/usr/share/zoneinfo/dangling"));  // kept as in the source
  CHECK(has(out, "/usr/share/zoneinfo/everything"));
  CHECK(!has(out, "/bin/sh"));  // a link to a directory does not pull in its tree
  CHECK_THROWS_AS(select_tree(fs, "/nope", out), Error);
}

TEST_CASE("select_tree: the order of trees does not matter") {
  // Debian's nginx: /usr/share/nginx/modules -> /usr/lib/nginx/modules.
  MemRootFs fs;
  fs.add_file("/usr/share/nginx/html/index.html", "<html>");
  fs.add_symlink("/usr/share/nginx/modules", "../../lib/nginx/modules");
  fs.add_file("/usr/lib/nginx/modules/ngx_http_echo_module.so", "ELF");
  std::set<std::string> share_first, lib_first;
  select_tree(fs, "/usr/share/nginx", share_first);
  CHECK(has(share_first, "/usr/lib/nginx/modules"));  // the link's target, not its contents
  CHECK(!has(share_first, "/usr/lib/nginx/modules/ngx_http_echo_module.so"));
  select_tree(fs, "/usr/lib/nginx", share_first);
  select_tree(fs, "/usr/lib/nginx", lib_first);
  select_tree(fs, "/usr/share/nginx", lib_first);
  CHECK(has(share_first, "/usr/lib/nginx/modules/ngx_http_echo_module.so"));
  CHECK(share_first == lib_first);
}

TEST_CASE("presets: generated files, source files, env and owners") {
  MemRootFs lower = source();
  OverlayRootFs fs(lower);
  // A glibc before 2.34: its NSS modules are loaded by name.
  auto plan = apply_presets(parse_presets({"certs", "tzdata", "passwd", "nss", "tmp", "shell"}), fs,
                            PresetContext{LoaderKind::Glibc, "/lib", false});
  for (const char* p :
       {"/etc/passwd", "/etc/group", "/home/nonroot", "/root", "/etc/nsswitch.conf", "/etc/hosts",
        "/tmp", "/usr/share/ca/bundle.pem", "/usr/share/zoneinfo/Europe/Paris"}) {
    INFO(p);
    CHECK(has(plan.paths, p));
  }
  CHECK(fs.lstat("/tmp")->mode == 01777);
  CHECK(plan.owners.at("/home/nonroot").uid == 65532);
  CHECK(plan.owners.at("/home/nonroot").gid == 65532);
  CHECK(plan.env == std::vector<std::string>{"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"});
  CHECK(plan.needed == std::vector<std::string>{"libnss_files.so.2", "libnss_dns.so.2"});
  CHECK(plan.programs == std::vector<std::string>{"/bin/sh"});
  auto passwd = rootfs::read_text(fs, "/etc/passwd");
  REQUIRE(passwd);
  CHECK(passwd->find("nonroot:x:65532:65532:") != std::string::npos);
}

TEST_CASE("presets: musl needs no NSS modules; a Fedora bundle gets the common path") {
  MemRootFs lower;
  lower.add_file("/etc/pki/tls/certs/ca-bundle.crt", "CERTS");
  OverlayRootFs fs(lower);
  auto plan = apply_presets(parse_presets({"nss", "certs"}), fs,
                            PresetContext{LoaderKind::Musl, "", false});
  CHECK(plan.needed.empty());
  CHECK(has(plan.paths, "/etc/ssl/certs/ca-certificates.crt"));
  CHECK(fs.readlink("/etc/ssl/certs/ca-certificates.crt") == "/etc/pki/tls/certs/ca-bundle.crt");
}

TEST_CASE("presets: glibc 2.34+ has the NSS modules built in; services come from the source") {
  MemRootFs lower;
  lower.add_file("/etc/services", "http 80/tcp\n");
  OverlayRootFs fs(lower);
  auto plan = apply_presets(parse_presets({"nss"}), fs,
                            PresetContext{LoaderKind::Glibc, "/usr/lib/x86_64-linux-gnu", true});
  CHECK(plan.needed.empty());
  CHECK(has(plan.paths, "/etc/services"));
  CHECK(has(plan.paths, "/etc/nsswitch.conf"));
}

TEST_CASE(
    "presets: what the source lacks is an error naming the preset, or a warning when inferred") {
  MemRootFs empty;
  for (const char* name : {"certs", "tzdata", "shell", "gconv"}) {
    INFO(name);
    {
      OverlayRootFs fs(empty);
      try {
        apply_presets(parse_presets({name}), fs, PresetContext{LoaderKind::Glibc, "/lib", true});
        FAIL("no error");
      } catch (const Error& e) {
        CHECK(std::string(e.what()).find(std::string("--with ") + name) == 0);
      }
    }
    OverlayRootFs fs(empty);
    auto plan = apply_presets(parse_presets({name}), fs,
                              PresetContext{LoaderKind::Glibc, "/lib", true}, false);
    REQUIRE(plan.warnings.size() == 1);
    CHECK(plan.warnings[0].find(std::string("inferred ") + name + ": ") == 0);
    CHECK(plan.paths.empty());
  }
  CHECK_THROWS_AS(parse_presets({"bogus"}), Error);
}
