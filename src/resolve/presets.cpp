// Presets for what programs need but no ELF header names, modelled on what
// distroless `static` and `base` ship.
#include <array>
#include <set>

#include "dslim/accounts.hpp"
#include "dslim/error.hpp"
#include "dslim/gconv.hpp"
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

// A preset the source cannot satisfy: an error when the user asked for it,
// a warning when it was inferred (the image may still do without it).
class Unmet : public Error {
 public:
  using Error::Error;
};

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
  throw Unmet("--with certs: " + fs.describe() + " has no CA bundle (looked for " +
              std::string(kCaBundles[0]) + ", " + kCaBundles[1] + ", " + kCaBundles[2] +
              "); install ca-certificates in the source image");
}

void tzdata(rootfs::OverlayRootFs& fs, PresetPlan& plan) {
  if (!exists(fs, "/usr/share/zoneinfo")) {
    throw Unmet("--with tzdata: " + fs.describe() +
                " has no /usr/share/zoneinfo; install tzdata in the source image");
  }
  select_tree(fs, "/usr/share/zoneinfo", plan.paths);
}

// `base` (root, nobody, nonroot) and the source's system accounts of
// `file`, those with an id below 1000 that `base` lacks: the users a
// program's configuration names (nginx's www-data, postgres), and none of a
// developer machine's people (ids from 1000).
std::string with_system_accounts(const rootfs::RootFs& fs, const char* file, std::string base) {
  const bool passwd = std::string_view(file).ends_with("passwd");
  std::set<std::string> names;
  for (const auto& account : rootfs::parse_accounts(base, passwd)) names.insert(account.name);
  for (const auto& account : rootfs::read_accounts(fs, file)) {
    if (account.id < 1000 && names.insert(account.name).second) base += account.line + "\n";
  }
  return base;
}

void passwd(rootfs::OverlayRootFs& fs, PresetPlan& plan, const PresetContext& context) {
  if (context.source_accounts && exists(fs, "/etc/passwd")) {
    select_entry(fs, "/etc/passwd", plan.paths);
    if (exists(fs, "/etc/group")) select_entry(fs, "/etc/group", plan.paths);
    return;
  }
  select_entry(fs, fs.add_file("/etc/passwd", with_system_accounts(fs, "/etc/passwd", kPasswd)),
               plan.paths);
  select_entry(fs, fs.add_file("/etc/group", with_system_accounts(fs, "/etc/group", kGroup)),
               plan.paths);
  // Empty directories of their own: the source's /root (keys, credentials)
  // must never ride along.
  select_entry(fs, fs.add_dir("/root", 0700), plan.paths);
  std::string home = fs.add_dir("/home/nonroot", 0700);
  select_entry(fs, home, plan.paths);
  plan.owners[home] = {kNonroot, kNonroot};
}

void nss(rootfs::OverlayRootFs& fs, PresetPlan& plan, const PresetContext& context) {
  select_entry(fs, fs.add_file("/etc/nsswitch.conf", kNsswitch), plan.paths);
  select_entry(fs, fs.add_file("/etc/hosts", kHosts), plan.paths);
  // getservbyname and Go's resolver read the source's services table.
  if (exists(fs, "/etc/services")) select_entry(fs, "/etc/services", plan.paths);
  // A glibc before 2.34 dlopens the NSS modules by these names; later ones
  // have files and dns built in, and musl has no modules at all.
  if (context.loader == LoaderKind::Glibc && !context.nss_in_libc)
    plan.needed = {"libnss_files.so.2", "libnss_dns.so.2"};
}

void tmp(rootfs::OverlayRootFs& fs, PresetPlan& plan) {
  select_entry(fs, fs.add_dir("/tmp", 01777), plan.paths);  // empty, whatever the source's holds
}

void shell(rootfs::OverlayRootFs& fs, PresetPlan& plan) {
  if (!exists(fs, "/bin/sh")) {
    throw Unmet("--with shell: " + fs.describe() + " has no /bin/sh");
  }
  plan.programs.push_back("/bin/sh");
}

// Every gconv module with its configuration: iconv for any charset.
void gconv(rootfs::OverlayRootFs& fs, PresetPlan& plan, const PresetContext& context) {
  std::optional<GconvConfig> config;
  if (context.loader == LoaderKind::Glibc && !context.libc_dir.empty())
    config = read_gconv_config(fs, context.libc_dir);
  if (!config) {
    throw Unmet("--with gconv: " + fs.describe() +
                " has no glibc gconv configuration (gconv-modules) beside libc.so.6");
  }
  for (const auto& file : config->files()) select_entry(fs, file, plan.paths);
  for (const auto& module : config->all_modules()) select_entry(fs, module, plan.paths);
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
    else if (name == "gconv")
      presets.push_back(Preset::Gconv);
    else {
      throw Error("--with " + name +
                      ": unknown preset (known: certs, tzdata, passwd, nss, tmp, shell, gconv)",
                  ErrorKind::Usage);
    }
  }
  return presets;
}

const char* to_string(Preset preset) {
  switch (preset) {
    case Preset::Certs:
      return "certs";
    case Preset::Tzdata:
      return "tzdata";
    case Preset::Passwd:
      return "passwd";
    case Preset::Nss:
      return "nss";
    case Preset::Tmp:
      return "tmp";
    case Preset::Shell:
      return "shell";
    case Preset::Gconv:
      return "gconv";
  }
  return "?";
}

PresetPlan apply_presets(const std::vector<Preset>& presets, rootfs::OverlayRootFs& fs,
                         const PresetContext& context, bool required) {
  PresetPlan plan;
  for (Preset preset : presets) {
    try {
      switch (preset) {
        case Preset::Certs:
          certs(fs, plan);
          break;
        case Preset::Tzdata:
          tzdata(fs, plan);
          break;
        case Preset::Passwd:
          passwd(fs, plan, context);
          break;
        case Preset::Nss:
          nss(fs, plan, context);
          break;
        case Preset::Tmp:
          tmp(fs, plan);
          break;
        case Preset::Shell:
          shell(fs, plan);
          break;
        case Preset::Gconv:
          gconv(fs, plan, context);
          break;
      }
    } catch (const Unmet& e) {
      if (required) throw;
      // "--with certs: dir:x has no CA bundle ..." reads as the inferred preset's.
      std::string message = e.what();
      plan.warnings.push_back("inferred " + message.substr(std::string("--with ").size()));
    }
  }
  return plan;
}

}  // namespace dslim::resolve
