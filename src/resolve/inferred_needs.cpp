// Needs inferred from imports (DESIGN.md §8). Cheap evidence first: the
// symbol tables are already read for the symbol check, so import rules cost a
// pass over each object's undefined symbols; only objects that import
// iconv_open or dlopen have their string literals read, and only Go programs
// their function table.
#include "dslim/inferred_needs.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <optional>

#include "dslim/elf_strings.hpp"
#include "dslim/error.hpp"
#include "dslim/gconv.hpp"
#include "dslim/go_binary.hpp"
#include "resolve/node_bytes.hpp"

namespace dslim::resolve {

namespace {

struct ImportRule {
  std::string_view symbol;
  NeedKind kind;
};

// glibc and musl functions whose work reads files no header names.
constexpr std::array kImportRules = {
    // User and group lookups read /etc/passwd and /etc/group.
    ImportRule{"getpwnam", NeedKind::Passwd},
    ImportRule{"getpwnam_r", NeedKind::Passwd},
    ImportRule{"getpwuid", NeedKind::Passwd},
    ImportRule{"getpwuid_r", NeedKind::Passwd},
    ImportRule{"getpwent", NeedKind::Passwd},
    ImportRule{"getgrnam", NeedKind::Passwd},
    ImportRule{"getgrnam_r", NeedKind::Passwd},
    ImportRule{"getgrgid", NeedKind::Passwd},
    ImportRule{"getgrgid_r", NeedKind::Passwd},
    ImportRule{"getgrent", NeedKind::Passwd},
    ImportRule{"getgrouplist", NeedKind::Passwd},
    ImportRule{"initgroups", NeedKind::Passwd},
    // Host and service lookups read nsswitch.conf, hosts and services
    // (and, before glibc 2.34, dlopen the NSS modules).
    ImportRule{"getaddrinfo", NeedKind::Nss},
    ImportRule{"getnameinfo", NeedKind::Nss},
    ImportRule{"gethostbyname", NeedKind::Nss},
    ImportRule{"gethostbyname_r", NeedKind::Nss},
    ImportRule{"gethostbyname2", NeedKind::Nss},
    ImportRule{"gethostbyname2_r", NeedKind::Nss},
    ImportRule{"gethostbyaddr", NeedKind::Nss},
    ImportRule{"gethostbyaddr_r", NeedKind::Nss},
    ImportRule{"getservbyname", NeedKind::Nss},
    ImportRule{"getservbyname_r", NeedKind::Nss},
    ImportRule{"getservbyport", NeedKind::Nss},
    ImportRule{"getservbyport_r", NeedKind::Nss},
    // glibc unwinds a cancelled or exiting thread through a dlopen'ed
    // libgcc_s.so.1 ("libgcc_s.so.1 must be installed for unwinding to work").
    ImportRule{"pthread_cancel", NeedKind::LibgccS},
    ImportRule{"pthread_exit", NeedKind::LibgccS},
    // iconv_open dlopens the gconv module of each charset not built in.
    ImportRule{"iconv_open", NeedKind::Gconv},
};

// Libraries whose presence means certificates are verified against the
// system's CA store.
constexpr std::array kTlsLibraries = {
    std::string_view("libssl.so"), std::string_view("libgnutls.so"),
    std::string_view("libmbedtls.so"), std::string_view("libwolfssl.so")};

constexpr const char* kLibgccS = "libgcc_s.so.1";
constexpr const char* kZoneinfo = "/usr/share/zoneinfo";

std::string file_name(const std::string& path) {
  return path.substr(path.rfind('/') + 1);
}

bool is_tls_library(const std::string& name) {
  return std::any_of(kTlsLibraries.begin(), kTlsLibraries.end(),
                     [&](std::string_view lib) { return name.starts_with(lib); });
}

// "libfoo.so", "libfoo.so.1", "libfoo-2.0.so.0": what dlopen is handed.
bool library_like(std::string_view s) {
  if (!s.starts_with("lib") || s.size() > 255 || s.find('/') != std::string_view::npos)
    return false;
  const size_t so = s.find(".so");
  if (so == std::string_view::npos || so == 3) return false;
  const std::string_view rest = s.substr(so + 3);
  if (!rest.empty() && rest.front() != '.') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' ||
           c == '+';
  });
}

// "ISO-8859-15", "EUC-JP", "SHIFT_JIS", "latin1", "UTF-16LE", "CP949",
// "KOI8-R": what a program hands iconv_open. glibc also knows two-letter
// ISO 646 aliases ("ES", "DE"), "L2" and "GREEK", which string tables are
// full of in other senses (language codes, "l4", "Greek"); a name with
// neither a digit nor a separator, or shorter than four characters, is
// taken for one of those.
bool charset_like(std::string_view s) {
  if (s.size() < 4 || s.size() > 64) return false;
  bool distinctive = false;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isdigit(u) || c == '-' || c == '_')
      distinctive = true;
    else if (!std::isalpha(u) && c != '.' && c != ':')
      return false;
  }
  return distinctive;
}

// What a Go program's function table says it uses.
struct GoRule {
  std::string_view prefix;
  NeedKind kind;
  std::string_view uses;
};
constexpr std::array kGoRules = {
    GoRule{"os/user.", NeedKind::Passwd, "os/user"},
    // Go's own resolver reads /etc/nsswitch.conf and /etc/hosts; the cgo one
    // goes through glibc's NSS.
    GoRule{"net.(*Resolver).", NeedKind::Nss, "the net resolver"},
    GoRule{"net.goLookup", NeedKind::Nss, "the net resolver"},
    GoRule{"crypto/x509.loadSystemRoots", NeedKind::Certs, "crypto/x509's system roots"},
    GoRule{"crypto/x509.initSystemRoots", NeedKind::Certs, "crypto/x509's system roots"},
};

}  // namespace

const char* to_string(NeedKind kind) {
  switch (kind) {
    case NeedKind::Passwd:
      return "passwd";
    case NeedKind::Nss:
      return "nss";
    case NeedKind::Certs:
      return "certs";
    case NeedKind::Tzdata:
      return "tzdata";
    case NeedKind::Gconv:
      return "gconv";
    case NeedKind::LibgccS:
      return "libgcc_s";
    case NeedKind::Tz:
      return "tz";
  }
  return "?";
}

std::set<NeedKind> parse_need_kinds(const std::vector<std::string>& names) {
  constexpr std::array kAll = {NeedKind::Passwd, NeedKind::Nss,   NeedKind::Certs,
                               NeedKind::Tzdata, NeedKind::Gconv, NeedKind::LibgccS,
                               NeedKind::Tz};
  std::set<NeedKind> out;
  for (const auto& name : names) {
    if (name == "all") {
      out.insert(kAll.begin(), kAll.end());
      continue;
    }
    auto it =
        std::find_if(kAll.begin(), kAll.end(), [&](NeedKind k) { return name == to_string(k); });
    if (it == kAll.end()) {
      throw Error("--without " + name +
                      ": unknown (known: passwd, nss, certs, tzdata, gconv, libgcc_s, tz, all)",
                  ErrorKind::Usage);
    }
    out.insert(*it);
  }
  return out;
}

NeedInferrer::NeedInferrer(const rootfs::RootFs& fs, InferenceOptions options)
    : fs_(fs), options_(std::move(options)) {}

namespace {

class Round {
 public:
  Round(const rootfs::RootFs& fs, const InferenceOptions& options, std::set<std::string>& seen,
        const Graph& graph, const GraphSymbols& symbols)
      : fs_(fs), options_(options), seen_(seen), graph_(graph), symbols_(symbols) {}

  void object(size_t n) {
    const Node& node = graph_.nodes[n];
    const bool glibc = graph_.loader == LoaderKind::Glibc;
    bool iconv = false, dlopen = false;
    std::map<NeedKind, std::vector<std::string_view>> by_kind;  // the imports behind each need
    for (const auto& import : symbols_.of(n).imports) {
      const std::string_view name = symbols_.name(import);
      if (name == "dlopen" || name == "dlmopen") dlopen = true;
      for (const auto& rule : kImportRules) {
        if (rule.symbol == name) by_kind[rule.kind].push_back(name);
      }
    }
    for (auto& [kind, names] : by_kind) {
      std::sort(names.begin(), names.end());
      std::string list;
      for (size_t i = 0; i < names.size() && i < 3; ++i)
        list += (i ? ", " : "") + std::string(names[i]);
      if (names.size() > 3) list += ", \u2026";
      const std::string reason = node.path + " imports " + list;
      if (kind == NeedKind::Gconv) {
        iconv = true;
      } else if (kind == NeedKind::LibgccS) {
        if (glibc) libgcc_s(reason);  // musl unwinds without it
      } else {
        add(kind, to_string(kind), reason);
      }
    }
    if (!node.real_path.empty() && is_tls_library(file_name(node.real_path))) {
      // Named for who links it, as a user knows the program, not the library.
      std::string by = node.path;
      for (const auto& other : graph_.nodes) {
        if (std::find(other.deps.begin(), other.deps.end(), n) != other.deps.end()) {
          by = other.path + " links " + node.name;
          break;
        }
      }
      add(NeedKind::Certs, "certs", by);
    }
    if (node.found_by == FoundBy::Program) go_program(node);
    // A program's literals are the charsets it converts; a library's
    // (libunistring's, libxml2's, libidn2's) are tables of what it could
    // convert, for whatever input or locale comes: taking their modules
    // would grow curl's image by 700 kB, mostly CJK modules no container
    // locale asks for.
    iconv = iconv && glibc && wanted(NeedKind::Gconv);
    if (iconv && node.found_by != FoundBy::Program) {
      out_.notes.push_back(node.path +
                           " imports iconv_open; the charsets it converts depend on its input "
                           "(--with gconv adds every module)");
      iconv = false;
    }
    // The dlopen hint is for the programs' own loads: a library's names are
    // its optional back-ends (libcrypto's engines, SDL's video drivers), and
    // reading every such library's strings cost a warm nginx slim 4 ms.
    dlopen = dlopen && node.found_by == FoundBy::Program;
    if (iconv || dlopen) strings(node, iconv, dlopen);
  }

  void tz() {
    if (!wanted(NeedKind::Tz)) return;
    std::string zone;
    for (const auto& entry : options_.env) {
      if (entry.starts_with("TZ=")) zone = entry.substr(3);
    }
    // POSIX: a leading ':' names a file. An absolute path is the user's own
    // business; a rule such as "UTC0" or "CET-1CEST,M3.5.0" names no file.
    if (!zone.empty() && zone.front() == ':') zone.erase(0, 1);
    if (zone.empty() || zone.front() == '/' || zone.find("..") != std::string::npos) return;
    const std::string path = std::string(kZoneinfo) + "/" + zone;
    if (!rootfs::resolve(fs_, path)) {
      if (zone.find('/') != std::string::npos && zone.find(',') == std::string::npos) {
        out_.warnings.push_back("TZ=" + zone + " in the image's Env, but " + fs_.describe() +
                                " has no " + path + "; install tzdata in the source image");
      }
      return;
    }
    if (add(NeedKind::Tz, "zone " + zone, "TZ=" + zone + " in the image's Env"))
      out_.paths.push_back(path);
  }

  Inference take() { return std::move(out_); }

 private:
  bool wanted(NeedKind kind) const { return !options_.without.contains(kind); }

  // Records a need once; true when it is new.
  bool add(NeedKind kind, const std::string& what, const std::string& reason) {
    if (!wanted(kind) || !seen_.insert(what).second) return false;
    out_.needs.push_back({kind, what, reason});
    switch (kind) {
      case NeedKind::Passwd:
        out_.presets.push_back(Preset::Passwd);
        break;
      case NeedKind::Nss:
        out_.presets.push_back(Preset::Nss);
        break;
      case NeedKind::Certs:
        out_.presets.push_back(Preset::Certs);
        break;
      case NeedKind::Tzdata:
        out_.presets.push_back(Preset::Tzdata);
        break;
      default:
        break;
    }
    return true;
  }

  void libgcc_s(const std::string& reason) {
    // Already in the closure (a C++ program links it): nothing to add.
    for (const auto& other : graph_.nodes) {
      if (other.info.soname == kLibgccS || other.name == kLibgccS) return;
    }
    if (add(NeedKind::LibgccS, kLibgccS, reason)) out_.libraries.push_back(kLibgccS);
  }

  void go_program(const Node& node) {
    std::optional<elf::GoBinary> go;
    with_node_bytes(node, fs_,
                    [&](uint64_t size, const elf::ReadAt& read_at, const std::string& name) {
                      go = elf::read_go_binary(size, read_at, name);
                    });
    if (!go) return;
    const std::string who = node.path + " (Go) uses ";
    for (const auto& rule : kGoRules) {
      if (go->has_function_prefix(rule.prefix))
        add(rule.kind, to_string(rule.kind), who + std::string(rule.uses));
    }
    // time/tzdata embeds the zones; without it LoadLocation reads zoneinfo.
    if (go->has_function("time.LoadLocation") && !go->has_function_prefix("time/tzdata."))
      add(NeedKind::Tzdata, "tzdata",
          node.path + " (Go) calls time.LoadLocation without time/tzdata");
  }

  void strings(const Node& node, bool charsets, bool libraries) {
    std::vector<std::string> found_charsets, found_libraries;
    with_node_bytes(
        node, fs_, [&](uint64_t size, const elf::ReadAt& read_at, const std::string& name) {
          elf::for_each_read_only_string(size, read_at, name, 2, [&](std::string_view s) {
            if (charsets && charset_like(s)) found_charsets.emplace_back(s);
            if (libraries && library_like(s)) found_libraries.emplace_back(s);
          });
        });
    if (charsets) gconv(node, found_charsets);
    if (libraries) dlopen_hint(node, found_libraries);
  }

  const std::optional<GconvConfig>& gconv_config() {
    if (!gconv_read_) {
      gconv_read_ = true;
      for (const auto& node : graph_.nodes) {
        if (node.info.soname == "libc.so.6" && !node.real_path.empty()) {
          gconv_ = read_gconv_config(fs_, rootfs::parent_dir(node.real_path));
          break;
        }
      }
    }
    return gconv_;
  }

  void gconv(const Node& node, const std::vector<std::string>& names) {
    const auto& config = gconv_config();
    if (!config) return;
    bool any = false;
    for (const auto& match : config->modules_for(names)) {
      if (match.modules.empty()) continue;  // built into libc
      std::string charset = match.charset;
      while (charset.ends_with('/')) charset.pop_back();
      if (!add(NeedKind::Gconv, "gconv " + charset,
               node.path + " imports iconv_open and names " + match.name))
        continue;
      any = true;
      out_.paths.insert(out_.paths.end(), match.modules.begin(), match.modules.end());
    }
    if (any) out_.paths.insert(out_.paths.end(), config->files().begin(), config->files().end());
  }

  // Libraries a dlopen may load that the image would lack: named so the
  // user can --include them or probe.
  void dlopen_hint(const Node& node, const std::vector<std::string>& names) {
    std::set<std::string> dirs;
    std::set<std::string> loaded;
    for (const auto& other : graph_.nodes) {
      if (other.real_path.empty()) continue;
      dirs.insert(rootfs::parent_dir(other.real_path));
      loaded.insert(other.name);
      loaded.insert(file_name(other.path));
      if (other.info.soname) loaded.insert(*other.info.soname);
    }
    std::vector<std::string> present;
    for (const auto& name : std::set<std::string>(names.begin(), names.end())) {
      if (loaded.contains(name)) continue;
      for (const auto& dir : dirs) {
        if (rootfs::resolve(fs_, dir + "/" + name)) {
          present.push_back(dir + "/" + name);
          break;
        }
      }
    }
    if (present.empty()) return;
    std::string list;
    for (size_t i = 0; i < present.size() && i < 8; ++i) list += (i ? ", " : "") + present[i];
    if (present.size() > 8) list += ", and " + std::to_string(present.size() - 8) + " more";
    out_.warnings.push_back(node.path + " imports dlopen and names libraries that " +
                            fs_.describe() + " has and the image lacks: " + list +
                            "; add those it loads with --include");
  }

  const rootfs::RootFs& fs_;
  const InferenceOptions& options_;
  std::set<std::string>& seen_;
  const Graph& graph_;
  const GraphSymbols& symbols_;
  Inference out_;
  bool gconv_read_ = false;
  std::optional<GconvConfig> gconv_;
};

}  // namespace

Inference NeedInferrer::infer(const Graph& graph, const GraphSymbols& symbols, size_t first) {
  Round round(fs_, options_, seen_, graph, symbols);
  for (size_t n = first; n < graph.nodes.size(); ++n) round.object(n);
  if (!tz_done_) {
    tz_done_ = true;
    round.tz();
  }
  return round.take();
}

}  // namespace dslim::resolve
