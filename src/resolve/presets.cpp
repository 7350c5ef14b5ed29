// Presets for what programs need but no ELF header names, modelled on what
// distroless `static` and `base` ship.
#include <array>

#include "dslim/error.hpp"
#include "dslim/selection.hpp"

namespace dslim::resolve {

namespace {

constexpr const char* kCaBundle = "/etc/ssl/certs/ca-certificates.crt";
// Where distributions keep the bundle (Debian/Alpine, Fedora/RHEL, Alpine's other name).
constexpr std::array kCaBundles = {kCaBundle, "/etc/pki/tls/certs/ca-bundle.crt",
                                   "/etc/ssl/cert.pem"};
constexpr uint32_t kNonroot = 65532;

constexpr const char* kPasswd =
    "root:x:0:0:root:/root:/sbin/nologin\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"
    "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n";
constexpr const char* kGroup =
    "root:x:0:\n"
    "nobody:x:65534:\n"
    "nonroot:x:65532:\n";
constexpr const char* kNsswitch =
    "passwd: files\n"
    "group: files\n"
    "shadow: files\n"
    "hosts: files dns\n"
    "networks: files\n"
    "protocols: files\n"
    "services: files\n";
constexpr const char* kHosts =
    "127.0.0.1\tlocalhost\n"
    "::1\tlocalhost ip6-localhost ip6-loopback\n";

bool exists(const rootfs::RootFs& fs, const std::string& path) {
  return rootfs::resolve(fs, path).has_value();
}

void certs(rootfs::OverlayRootFs& fs, PresetPlan& plan) {
  for (const char* bundle : kCaBundles) {
    if (!exists(fs, bundle)) continue;
    select_tree(fs, bundle, plan.paths);
    if (bundle != std::string(kCaBundle) && !exists(fs, kCaBundle)) {
      select_entry(fs, fs.add_symlink(kCaBundle, bundle), plan.paths);
    }
    plan.env.push_back(std::string("SSL_CERT_FILE=") + kCaBundle);
    return;
  }
  throw Error("--with certs: " + fs.describe() + " has no CA bundle (looked for " +
              std::string(kCaBundles[0]) + ", " + kCaBundles[1] + ", " + kCaBundles[2] +
              "); install ca-certificates in the source image");
}

void tzdata(rootfs::OverlayRootFs& fs, PresetPlan& plan) {
  if (!exists(fs, "/usr/share/zoneinfo")) {
    throw Error("--with tzdata: " + fs.describe() +
                " has no /usr/share/zoneinfo; install tzdata in the source image");
  }
  select_tree(fs, "/usr/share/zoneinfo", plan.paths);
}

void passwd(rootfs::OverlayRootFs& fs, PresetPlan& plan) {
  select_entry(fs, fs.add_file("/etc/passwd", kPasswd), plan.paths);
  select_entry(fs, fs.add_file("/etc/group", kGroup), plan.paths);
  // Empty directories of their own: the source's /root (keys, credentials)
  // must never ride along.
  select_entry(fs, fs.add_dir("/root", 0700), plan.paths);
  std::string home = fs.add_dir("/home/nonroot", 0700);
  select_entry(fs, home, plan.paths);
  plan.owners[home] = kNonroot;
}

void nss(rootfs::OverlayRootFs& fs, PresetPlan& plan, LoaderKind loader) {
  select_entry(fs, fs.add_file("/etc/nsswitch.conf", kNsswitch), plan.paths);
  select_entry(fs, fs.add_file("/etc/hosts", kHosts), plan.paths);
  // glibc dlopens NSS modules by these names; musl has no modules and reads
  // /etc/hosts itself.
  if (loader == LoaderKind::Glibc) plan.needed = {"libnss_files.so.2", "libnss_dns.so.2"};
}

void tmp(rootfs::OverlayRootFs& fs, PresetPlan& plan) {
  select_entry(fs, fs.add_dir("/tmp", 01777), plan.paths);  // empty, whatever the source's holds
}

void shell(rootfs::OverlayRootFs& fs, PresetPlan& plan) {
  if (!exists(fs, "/bin/sh")) {
    throw Error("--with shell: " + fs.describe() + " has no /bin/sh");
  }
  plan.programs.push_back("/bin/sh");
}

}  // namespace

std::vector<Preset> parse_presets(const std::vector<std::string>& names) {
  std::vector<Preset> presets;
  for (const auto& name : names) {
    if (name == "certs")
      presets.push_back(Preset::Certs);
    else if (name == "tzdata")
      presets.push_back(Preset::Tzdata);
    else if (name == "passwd")
      presets.push_back(Preset::Passwd);
    else if (name == "nss")
      presets.push_back(Preset::Nss);
    else if (name == "tmp")
      presets.push_back(Preset::Tmp);
    else if (name == "shell")
      presets.push_back(Preset::Shell);
    else {
      throw Error(
          "--with " + name + ": unknown preset (known: certs, tzdata, passwd, nss, tmp, shell)",
          ErrorKind::Usage);
    }
  }
  return presets;
}

PresetPlan apply_presets(const std::vector<Preset>& presets, rootfs::OverlayRootFs& fs,
                         LoaderKind loader) {
  PresetPlan plan;
  for (Preset preset : presets) {
    switch (preset) {
      case Preset::Certs:
        certs(fs, plan);
        break;
      case Preset::Tzdata:
        tzdata(fs, plan);
        break;
      case Preset::Passwd:
        passwd(fs, plan);
        break;
      case Preset::Nss:
        nss(fs, plan, loader);
        break;
      case Preset::Tmp:
        tmp(fs, plan);
        break;
      case Preset::Shell:
        shell(fs, plan);
        break;
    }
  }
  return plan;
}

}  // namespace dslim::resolve
