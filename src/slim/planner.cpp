// The plan of a slim image: programs placed, closures resolved, files asked
// for and needs inferred, in rounds until nothing new comes in (a module an
// inferred need adds is an ELF object with a closure of its own, whose
// imports may need more), then the symbol check over the whole.
#include <array>
#include <filesystem>
#include <fstream>
#include <optional>

#include "dslim/elf_symbols.hpp"
#include "dslim/environment.hpp"
#include "dslim/error.hpp"
#include "dslim/selection.hpp"
#include "dslim/slim.hpp"
#include "slim/prober.hpp"

namespace dslim::slim {

namespace {

namespace fs = std::filesystem;

// Where each APP goes: --dest for one (default /app); for several, each
// under --dest (default /usr/local/bin) by its file name.
std::vector<std::string> placements(const SlimRequest& request) {
  std::vector<std::string> out;
  if (request.apps.size() == 1) {
    out.push_back(request.dest.empty() ? "/app" : request.dest);
  } else {
    std::string dir = request.dest.empty() ? "/usr/local/bin" : request.dest;
    std::set<std::string> names;
    for (const auto& app : request.apps) {
      std::string name = fs::path(app).filename().string();
      if (!names.insert(name).second) {
        throw Error("two APPs are named " + name + "; slim them into separate images or rename one",
                    ErrorKind::Usage);
      }
      out.push_back(dir + "/" + name);
    }
  }
  for (const auto& path : out) {
    if (!path.starts_with('/')) {
      throw Error("--dest " + path + ": must be an absolute path in the image", ErrorKind::Usage);
    }
  }
  return out;
}

// The `#!` interpreter of a script APP; nullopt for anything else.
std::optional<std::string> script_of(const std::string& app) {
  std::ifstream in(app, std::ios::binary);
  if (!in) throw Error(app + ": cannot open");
  char head[256];
  in.read(head, sizeof head);
  auto bytes = std::as_bytes(std::span(head, static_cast<size_t>(in.gcount())));
  return elf::script_interpreter(bytes);
}

// The same for a program of the root (a pick, an image's entrypoint).
std::optional<std::string> script_in(const rootfs::RootFs& fs, const std::string& path) {
  const auto found = rootfs::resolve(fs, path);
  if (!found || found->stat.type != rootfs::FileType::Regular) return std::nullopt;
  const auto reader = fs.open_reader(found->path, found->stat);
  std::vector<std::byte> head(std::min<uint64_t>(reader->size(), 256));
  reader->read(0, head);
  return elf::script_interpreter(head);
}

std::optional<resolve::NeedKind> need_kind(resolve::Preset preset) {
  switch (preset) {
    case resolve::Preset::Passwd:
      return resolve::NeedKind::Passwd;
    case resolve::Preset::Nss:
      return resolve::NeedKind::Nss;
    case resolve::Preset::Certs:
      return resolve::NeedKind::Certs;
    case resolve::Preset::Tzdata:
      return resolve::NeedKind::Tzdata;
    case resolve::Preset::Gconv:
      return resolve::NeedKind::Gconv;
    default:
      return std::nullopt;
  }
}

std::string env_value(const std::vector<std::string>& env, const std::string& key) {
  std::string value;
  for (const auto& entry : env) {
    if (entry.size() > key.size() && entry.compare(0, key.size(), key) == 0 &&
        entry[key.size()] == '=')
      value = entry.substr(key.size() + 1);
  }
  return value;
}

class Planner {
 public:
  Planner(const SlimRequest& request, rootfs::OverlayRootFs& overlay)
      : request_(request),
        overlay_(overlay),
        resolve_options_(with_library_path(request)),
        resolver_(overlay, resolve_options_) {}

  SlimPlan run() {
    place_programs();
    for (const auto& include : request_.includes) {
      if (!include.starts_with('/')) {
        throw Error("--include " + include + ": must be an absolute path in " + overlay_.describe(),
                    ErrorKind::Usage);
      }
      resolve::select_tree(overlay_, include, plan_.paths);
    }
    plan_.graph = resolver_.resolve(programs_);
    symbols_.read(plan_.graph, overlay_);
    context_ = preset_context();

    // What the user asked for, then what the code says it needs, in rounds.
    const auto asked = resolve::parse_presets(request_.with);
    take_presets(resolve::apply_presets(asked, overlay_, context_, true), "--with");
    // A preset asked for is a need met: not inferred again.
    auto without = resolve::parse_need_kinds(request_.without);
    for (auto preset : asked) {
      if (auto kind = need_kind(preset)) without.insert(*kind);
    }
    resolve::NeedInferrer inferrer(overlay_, {without, request_.env});
    infer_until_stable(inferrer);
    // What the program does when it runs, then what that brings.
    if (!request_.probes.empty()) {
      run_probes();
      infer_until_stable(inferrer);
    }

    for (const auto& path : plan_.graph.files()) plan_.paths.insert(path);
    for (const auto& dir : request_.dirs) config_dir(dir);
    if (request_.source_accounts && !request_.user.empty()) user_accounts();
    package_metadata();
    if (request_.keep_owners) source_owners();
    plan_.symbols = resolve::check_symbols(plan_.graph, symbols_);
    if (request_.allow_missing_symbols) {
      for (auto& problem : plan_.symbols) problem.error = false;
    }
    return std::move(plan_);
  }

 private:
  // Inference in rounds: what one round adds (a module, a library, a file
  // that is an ELF object) is resolved and read in the next.
  void infer_until_stable(resolve::NeedInferrer& inferrer) {
    for (;;) {
      add_elf_roots();
      const size_t before = plan_.graph.nodes.size();
      resolve::Inference inference = inferrer.infer(plan_.graph, symbols_, inferred_from_);
      inferred_from_ = before;
      plan_.inferred.insert(plan_.inferred.end(), inference.needs.begin(), inference.needs.end());
      plan_.warnings.insert(plan_.warnings.end(), inference.warnings.begin(),
                            inference.warnings.end());
      plan_.notes.insert(plan_.notes.end(), inference.notes.begin(), inference.notes.end());
      take_presets(resolve::apply_presets(inference.presets, overlay_, context_, false),
                   "inferred");
      for (const auto& path : inference.paths) resolve::select_entry(overlay_, path, plan_.paths);
      if (!inference.libraries.empty()) dlopened_names(inference.libraries, "inferred libgcc_s");
      if (inference.needs.empty() && plan_.graph.nodes.size() == before && !has_new_paths()) break;
    }
  }

  // Each --probe in a fresh sandbox over the image planned so far.
  void run_probes() {
    // What the closure already has is not the probe's to add.
    for (const auto& path : plan_.graph.files()) plan_.paths.insert(path);
    Prober prober(request_, overlay_, merge_env(request_.env, plan_.env),
                  plan_.entry_paths.front());
    for (const auto& probe : request_.probes)
      plan_.probes.push_back(prober.run(probe, plan_.paths));
  }

  // A directory the config names (WorkingDir, a volume): the source's, with
  // its mode and owner, else an empty one.
  void config_dir(const std::string& dir) {
    if (!dir.starts_with('/')) return;  // the runtime takes a relative WorkingDir from /
    const auto found = rootfs::resolve(overlay_, dir);
    if (found && found->stat.type != rootfs::FileType::Directory)
      throw Error(dir + " in " + overlay_.describe() +
                  " is not a directory, but the config names it as one");
    if (!found) overlay_.add_dir(rootfs::normalize(dir), 0755);
    resolve::select_entry(overlay_, dir, plan_.paths);
  }

  // The user's line in /etc/passwd and its group's in /etc/group: the
  // source's files when the image takes them whole, else files of root's
  // lines (when the source has them) and the user's.
  void user_accounts() {
    const auto colon = request_.user.find(':');
    const std::string user = request_.user.substr(0, colon);
    const auto ids = rootfs::user_ids(overlay_, request_.user, "User " + request_.user);
    const std::string group =
        colon == std::string::npos ? std::to_string(ids.gid) : request_.user.substr(colon + 1);
    account_file("/etc/passwd", {"root", user});
    account_file("/etc/group", {"root", group});
  }

  void account_file(const std::string& file, const std::vector<std::string>& keys) {
    const bool passwd = file.ends_with("passwd");
    const auto image = rootfs::resolve(overlay_, file);
    // What the image takes already (the source's file, a preset's), or nothing.
    std::string text;
    if (image && plan_.paths.contains(image->path))
      text = rootfs::read_text(overlay_, file).value_or("");
    if (!text.empty() && text.back() != '\n') text += '\n';
    const auto source = rootfs::read_accounts(overlay_.lower(), file);
    bool added = false;
    for (const auto& key : keys) {
      if (rootfs::find_account(rootfs::parse_accounts(text, passwd), key)) continue;
      // A numeric id the source has no line for needs none: the kernel takes numbers.
      if (const auto line = rootfs::find_account(source, key)) {
        text += line->line + "\n";
        added = true;
      }
    }
    if (added) resolve::select_entry(overlay_, overlay_.add_file(file, text, 0644), plan_.paths);
  }

  // Which package each file of the source comes from; the trimmed database
  // and the licence files of those packages, so that scanners see them.
  void package_metadata() {
    if (!request_.package_metadata && !request_.list_packages) return;
    const auto db = packages::read_package_db(overlay_.lower());
    std::set<std::string> from_source;
    for (const auto& path : plan_.paths) {
      const auto made = overlay_.upper().lstat(path);
      if (made && made->type == rootfs::FileType::Regular) {
        plan_.app_files.push_back(path);
        continue;
      }
      if (!db || made) continue;
      // Directories, and links to them (merged /usr's /lib), are every package's.
      const auto found = rootfs::resolve(overlay_, path);
      if (found && found->stat.type != rootfs::FileType::Directory) from_source.insert(path);
    }
    if (!db) return;
    std::set<std::string> kept;
    for (const auto& [path, name] : db->owners(from_source)) kept.insert(name);
    for (const auto& name : kept)
      if (const auto* package = db->find(name)) plan_.packages.push_back(*package);
    if (!request_.package_metadata) return;
    for (const auto& [path, text] : db->metadata(kept))
      resolve::select_entry(overlay_, overlay_.add_file(path, text, 0644), plan_.paths);
    for (const auto& name : kept)
      if (const auto file = db->licence_file(name))
        resolve::select_entry(overlay_, *file, plan_.paths);
  }

  // Every path's owner and group as the source has them: what `dslim image`
  // keeps (nginx's /var/lib/nginx/body is www-data's, mode 700).
  void source_owners() {
    for (const auto& path : plan_.paths) {
      if (plan_.owners.contains(path)) continue;
      const auto st = overlay_.lstat(path);
      if (st && (st->uid != 0 || st->gid != 0)) plan_.owners[path] = {st->uid, st->gid};
    }
  }

  static resolve::Options with_library_path(const SlimRequest& request) {
    resolve::Options options = request.resolve;
    options.ld_library_path = env_value(request.env, "LD_LIBRARY_PATH");
    return options;
  }

  void place_programs() {
    const auto dests = placements(request_);
    const uint64_t max_elf_size = request_.resolve.max_elf_size;
    std::vector<std::string> script_interps;
    for (size_t i = 0; i < request_.apps.size(); ++i) {
      const std::string& app = request_.apps[i];
      auto interp = script_of(app);
      if (interp) {
        if (interp->empty()) throw Error(app + ": script with an empty #! line");
        script_interps.push_back(*interp);
      } else {
        // The deeper check: LIEF must agree with the light reader on the
        // user's binary. LIEF reads it whole, so its size is bounded first.
        std::error_code ec;
        const auto size = fs::file_size(app, ec);
        if (!ec) resolve::check_elf_size(size, max_elf_size, app);
        elf::read_elf_file(app, elf::Depth::Full);
      }
      std::string at = overlay_.add_host_file(dests[i], app);
      resolve::select_tree(overlay_, dests[i], plan_.paths);
      plan_.entry_paths.push_back(dests[i]);
      if (!interp) programs_.push_back(resolve::program_from_root(overlay_, at, max_elf_size));
    }
    for (const auto& add : request_.adds) add_host(add);
    for (const auto& pick : request_.picks) {
      plan_.entry_paths.push_back(pick);
      if (auto interp = script_in(overlay_, pick)) {
        if (interp->empty())
          throw Error(pick + " in " + overlay_.describe() + ": script with an empty #! line");
        resolve::select_entry(overlay_, pick, plan_.paths);
        script_interps.push_back(*interp);
        continue;
      }
      programs_.push_back(resolve::program_from_root(overlay_, pick, max_elf_size));
    }
    for (const auto& interp : script_interps) {
      programs_.push_back(resolve::program_from_root(overlay_, interp, max_elf_size));
    }
    if (programs_.empty()) {
      throw Error("nothing to resolve: name an APP or --pick PATH", ErrorKind::Usage);
    }
    plan_.arch = programs_.front().info;
    for (const auto& program : programs_) known_.insert(rootfs::normalize(*program.in_root_path));
  }

  // --add HOST:IMAGE, a file or a directory of this machine.
  void add_host(const std::string& add) {
    auto colon = add.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == add.size() ||
        add[colon + 1] != '/') {
      throw Error("--add " + add + ": expected HOST:IMAGE with an absolute IMAGE path",
                  ErrorKind::Usage);
    }
    std::string host = add.substr(0, colon), image = add.substr(colon + 1);
    // What was added, not what the source has at those paths: a directory
    // of one file added at /usr/share/doc must not bring the source's 5,000.
    auto dir = [&](const std::string& at) {
      if (!rootfs::resolve(overlay_, at)) overlay_.add_dir(at);
      resolve::select_entry(overlay_, at, plan_.paths);
    };
    if (fs::is_directory(host)) {
      dir(image);
      for (const auto& e : fs::recursive_directory_iterator(host)) {
        const std::string at = image + "/" + fs::relative(e.path(), host).string();
        if (e.is_directory())
          dir(at);
        else if (e.is_regular_file())
          resolve::select_entry(overlay_, overlay_.add_host_file(at, e.path().string()),
                                plan_.paths);
      }
    } else {
      resolve::select_entry(overlay_, overlay_.add_host_file(image, host), plan_.paths);
    }
  }

  // libc's place and version, for the presets.
  resolve::PresetContext preset_context() const {
    resolve::PresetContext context;
    context.loader = plan_.graph.loader;
    context.source_accounts = request_.source_accounts;
    for (size_t n = 0; n < plan_.graph.nodes.size(); ++n) {
      const auto& node = plan_.graph.nodes[n];
      if (node.info.soname != "libc.so.6" || node.real_path.empty()) continue;
      context.libc_dir = rootfs::parent_dir(node.real_path);
      context.nss_in_libc = symbols_.of(n).versions().defines("GLIBC_2.34");
      break;
    }
    return context;
  }

  void take_presets(resolve::PresetPlan preset, const std::string& why) {
    plan_.paths.insert(preset.paths.begin(), preset.paths.end());
    plan_.owners.insert(preset.owners.begin(), preset.owners.end());
    for (const auto& e : preset.env) {
      if (std::find(plan_.env.begin(), plan_.env.end(), e) == plan_.env.end())
        plan_.env.push_back(e);
    }
    plan_.warnings.insert(plan_.warnings.end(), preset.warnings.begin(), preset.warnings.end());
    std::vector<resolve::Program> programs;
    for (const auto& program : preset.programs) {
      if (!known_.insert(rootfs::normalize(program)).second) continue;
      programs.push_back(
          resolve::program_from_root(overlay_, program, request_.resolve.max_elf_size));
    }
    extend(std::move(programs));
    // Only nss names libraries (its modules, before glibc 2.34).
    if (!preset.needed.empty()) dlopened_names(preset.needed, why + " nss");
  }

  // Libraries loaded by name at run time, resolved as if the first program
  // needed them (glibc's dlopen searches as its caller's DT_NEEDED would).
  void dlopened_names(const std::vector<std::string>& names, const std::string& why) {
    // `why` names the stand-in program in messages: "--with nss", "inferred libgcc_s".
    std::vector<std::string> fresh;
    for (const auto& name : names)
      if (dlopened_.insert(name).second) fresh.push_back(name);
    if (fresh.empty() || plan_.graph.loader == resolve::LoaderKind::Static) return;
    resolve::Program dlopened = programs_.front();
    dlopened.display = why;
    dlopened.in_root_path.reset();
    dlopened.host_path.clear();
    dlopened.role = resolve::Role::Dlopened;
    dlopened.info.needed = fresh;
    extend({std::move(dlopened)});
  }

  void extend(std::vector<resolve::Program> programs) {
    if (programs.empty()) return;
    resolver_.extend(plan_.graph, programs);
    symbols_.read(plan_.graph, overlay_);
  }

  bool has_new_paths() const { return plan_.paths.size() != paths_scanned_; }

  // ELF objects that came in as files (--add, --include, presets, inferred
  // modules) are programs of their own: a plugin, a Node addon or a gconv
  // module brings the libraries it needs, as an APP does.
  void add_elf_roots() {
    paths_scanned_ = plan_.paths.size();
    std::set<std::string> in_graph;
    for (const auto& node : plan_.graph.nodes)
      if (!node.real_path.empty()) in_graph.insert(node.real_path);
    std::vector<resolve::Program> programs;
    for (const auto& path : plan_.paths) {
      if (in_graph.contains(path) || !known_.insert(path).second) continue;
      try {
        if (auto program = elf_program(path)) programs.push_back(std::move(*program));
      } catch (const Error& e) {
        // A damaged file among many taken whole: the loader fails on it only
        // if it is loaded, so it is said, not fatal.
        plan_.warnings.push_back(std::string(e.what()) +
                                 " (taken as it is, its libraries unknown)");
      }
    }
    extend(std::move(programs));
  }

  // `path` as a program when it is a loadable ELF object of the image's
  // machine; nullopt for anything else (data, scripts, other machines' files).
  std::optional<resolve::Program> elf_program(const std::string& path) const {
    auto st = overlay_.lstat(path);
    if (!st || st->type != rootfs::FileType::Regular || st->size < 64) return std::nullopt;
    std::array<std::byte, 4> magic{};
    overlay_.open_reader(path, *st)->read(0, magic);
    if (!elf::has_elf_magic(magic)) return std::nullopt;
    auto program = resolve::program_from_root(overlay_, path, request_.resolve.max_elf_size);
    const auto& info = program.info;
    if (!info.has_dynamic || !info.compatible_with(plan_.arch) ||
        (info.type != elf::ObjectType::Dyn && info.type != elf::ObjectType::Exec))
      return std::nullopt;
    // An executable is run (exec'd by the program); a shared object is loaded into it.
    program.role = info.interpreter ? resolve::Role::Entry : resolve::Role::Dlopened;
    return program;
  }

  const SlimRequest& request_;
  rootfs::OverlayRootFs& overlay_;
  resolve::Options resolve_options_;
  resolve::Resolver resolver_;
  SlimPlan plan_;
  std::vector<resolve::Program> programs_;
  resolve::GraphSymbols symbols_;
  resolve::PresetContext context_;
  std::set<std::string> known_;     // paths already taken as programs
  std::set<std::string> dlopened_;  // names already resolved as run-time loads
  size_t paths_scanned_ = 0;
  size_t inferred_from_ = 0;  // the first node the next inference round reads
};

}  // namespace

SlimPlan plan_image(const SlimRequest& request, rootfs::OverlayRootFs& overlay) {
  return Planner(request, overlay).run();
}

}  // namespace dslim::slim
