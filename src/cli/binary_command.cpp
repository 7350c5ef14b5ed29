// `dslim binary`: the main job, a slim image for one or more binaries.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/deps_report.hpp"
#include "cli/image_report.hpp"
#include "cli/size.hpp"
#include "cli/source.hpp"
#include "dslim/blob_cache.hpp"
#include "dslim/error.hpp"
#include "dslim/image.hpp"
#include "dslim/image_summary.hpp"
#include "dslim/layer_writer.hpp"
#include "dslim/reference.hpp"
#include "dslim/selection.hpp"
#include "dslim/sink.hpp"

namespace dslim::cli {

namespace {

constexpr const char* kDefaultPath = "PATH=/usr/local/bin:/usr/bin:/bin";

struct BinaryOptions {
  std::vector<std::string> apps;
  std::vector<std::string> picks;
  SourceFlags source;
  std::string output;
  std::string dest;
  std::string entrypoint;
  std::string cmd;
  std::vector<std::string> env;
  std::string user;
  std::string workdir;
  std::vector<std::string> expose;
  std::vector<std::string> labels;
  std::vector<std::string> includes;
  std::vector<std::string> adds;
  std::vector<std::string> with;
  std::string compression = "gzip";
  std::string max_size;
  std::string report = "text";
};

// "--entrypoint /app" or a JSON array: '["/app", "--flag"]'.
std::vector<std::string> command_words(const std::string& text, const char* option) {
  if (text.empty()) return {};
  if (text.front() != '[') return {text};
  try {
    return nlohmann::json::parse(text).get<std::vector<std::string>>();
  } catch (const std::exception&) {
    throw Error(std::string(option) + " " + text + ": expected a path or a JSON array of strings",
                ErrorKind::Usage);
  }
}

int64_t source_date_epoch() {
  const char* text = std::getenv("SOURCE_DATE_EPOCH");
  if (!text || !*text) return 0;
  char* end = nullptr;
  long long value = std::strtoll(text, &end, 10);
  if (*end != '\0' || value < 0) {
    throw Error(std::string("SOURCE_DATE_EPOCH=") + text + ": expected seconds since 1970",
                ErrorKind::Usage);
  }
  return value;
}

// Where each APP goes: --dest for one (default /app); for several, each
// under --dest (default /usr/local/bin) by its file name.
std::vector<std::string> placements(const BinaryOptions& opt) {
  std::vector<std::string> out;
  if (opt.apps.size() == 1) {
    out.push_back(opt.dest.empty() ? "/app" : opt.dest);
  } else {
    std::string dir = opt.dest.empty() ? "/usr/local/bin" : opt.dest;
    std::set<std::string> names;
    for (const auto& app : opt.apps) {
      std::string name = std::filesystem::path(app).filename().string();
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

struct Plan {
  std::vector<resolve::Program> programs;
  std::vector<std::string> entry_paths;  // image paths of the APPs, then the picks
  std::set<std::string> paths;           // every path the layer takes from the overlay
  std::map<std::string, uint32_t> owners;
  std::vector<std::string> preset_env;
  elf::ElfInfo arch;
};

Plan plan_contents(const BinaryOptions& opt, const Source& source, rootfs::OverlayRootFs& overlay,
                   uint64_t max_elf_size) {
  Plan plan;
  auto dests = placements(opt);
  std::vector<std::string> script_interps;
  for (size_t i = 0; i < opt.apps.size(); ++i) {
    const std::string& app = opt.apps[i];
    auto interp = script_of(app);
    if (interp) {
      if (interp->empty()) throw Error(app + ": script with an empty #! line");
      script_interps.push_back(*interp);
    } else {
      // The deeper check: LIEF must agree with the light reader on the user's
      // binary. LIEF reads it whole, so its size is bounded first.
      std::error_code ec;
      const auto size = std::filesystem::file_size(app, ec);
      if (!ec) resolve::check_elf_size(size, max_elf_size, app);
      elf::read_elf_file(app, elf::Depth::Full);
    }
    std::string at = overlay.add_host_file(dests[i], app);
    resolve::select_tree(overlay, dests[i], plan.paths);
    plan.entry_paths.push_back(dests[i]);
    if (!interp) plan.programs.push_back(resolve::program_from_root(overlay, at, max_elf_size));
  }
  for (const auto& add : opt.adds) {
    auto colon = add.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == add.size() ||
        add[colon + 1] != '/') {
      throw Error("--add " + add + ": expected HOST:IMAGE with an absolute IMAGE path",
                  ErrorKind::Usage);
    }
    std::string host = add.substr(0, colon), image = add.substr(colon + 1);
    if (std::filesystem::is_directory(host)) {
      for (const auto& e : std::filesystem::recursive_directory_iterator(host)) {
        if (!e.is_regular_file()) continue;
        auto rel = std::filesystem::relative(e.path(), host).string();
        overlay.add_host_file(image + "/" + rel, e.path().string());
      }
    } else {
      overlay.add_host_file(image, host);
    }
    resolve::select_tree(overlay, image, plan.paths);
  }
  for (const auto& pick : opt.picks) {
    plan.programs.push_back(resolve::program_from_root(overlay, pick, max_elf_size));
    plan.entry_paths.push_back(pick);
  }
  for (const auto& interp : script_interps) {
    plan.programs.push_back(resolve::program_from_root(overlay, interp, max_elf_size));
  }
  if (plan.programs.empty()) {
    throw Error("nothing to resolve: name an APP or --pick PATH", ErrorKind::Usage);
  }
  plan.arch = plan.programs.front().info;

  auto presets = resolve::parse_presets(opt.with);
  auto loader = resolve::loader_kind(plan.arch);
  auto preset = resolve::apply_presets(presets, overlay, loader);
  plan.paths.insert(preset.paths.begin(), preset.paths.end());
  plan.owners = preset.owners;
  plan.preset_env = preset.env;
  for (const auto& program : preset.programs) {
    plan.programs.push_back(resolve::program_from_root(overlay, program, max_elf_size));
  }
  if (!preset.needed.empty()) {
    // Run-time dlopen()s: resolved as if the first program needed them.
    resolve::Program dlopened = plan.programs.front();
    dlopened.display = "--with nss";
    dlopened.in_root_path.reset();
    dlopened.info.needed = preset.needed;
    plan.programs.push_back(std::move(dlopened));
  }
  for (const auto& include : opt.includes) {
    if (!include.starts_with('/')) {
      throw Error("--include " + include + ": must be an absolute path in " + source.ref,
                  ErrorKind::Usage);
    }
    resolve::select_tree(overlay, include, plan.paths);
  }
  return plan;
}

oci::ContainerConfig container_config(const BinaryOptions& opt, const Plan& plan) {
  oci::ContainerConfig config;
  config.entrypoint = command_words(opt.entrypoint, "--entrypoint");
  if (config.entrypoint.empty()) config.entrypoint = {plan.entry_paths.front()};
  config.cmd = command_words(opt.cmd, "--cmd");
  config.env = {kDefaultPath};
  config.env.insert(config.env.end(), plan.preset_env.begin(), plan.preset_env.end());
  config.env.insert(config.env.end(), opt.env.begin(), opt.env.end());
  config.user = opt.user;
  config.working_dir = opt.workdir;
  for (const auto& port : opt.expose) {
    config.exposed_ports.push_back(port.find('/') == std::string::npos ? port + "/tcp" : port);
  }
  for (const auto& label : opt.labels) {
    auto eq = label.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw Error("--label " + label + ": expected KEY=VALUE", ErrorKind::Usage);
    }
    config.labels[label.substr(0, eq)] = label.substr(eq + 1);
  }
  for (const auto& e : opt.env) {
    if (e.find('=') == std::string::npos || e.front() == '=') {
      throw Error("--env " + e + ": expected KEY=VALUE", ErrorKind::Usage);
    }
  }
  return config;
}

int run_binary(const BinaryOptions& opt) {
  if (opt.output.empty()) {
    throw Error("binary: name the output with -o, e.g. -o oci:./out:latest", ErrorKind::Usage);
  }
  Reference dest = parse_reference(opt.output);
  uint64_t max_size = opt.max_size.empty() ? 0 : parse_size(opt.max_size);
  LayerOptions layer_options;
  layer_options.compression = parse_compression(opt.compression);
  layer_options.epoch = source_date_epoch();

  spdlog::trace("started");
  Source source = open_source(opt.source, opt.apps);
  spdlog::trace("source {} opened", source.ref);
  rootfs::OverlayRootFs overlay(*source.fs);
  overlay.set_max_symlink_hops(opt.source.max_symlink_hops);
  // LD_LIBRARY_PATH is set below, once the config is known.
  resolve::Options options = resolve_options(opt.source, {});
  Plan plan = plan_contents(opt, source, overlay, options.max_elf_size);
  oci::ContainerConfig config = container_config(opt, plan);

  std::vector<std::string> env = source.env;
  env.insert(env.end(), config.env.begin(), config.env.end());
  options.ld_library_path = env_value(env, "LD_LIBRARY_PATH");
  auto graph = resolve::Resolver(overlay, options).resolve(plan.programs);
  for (const auto& warning : graph.warnings) spdlog::warn("{}", warning);
  if (!graph.missing.empty()) {
    for (size_t i = 1; i < graph.missing.size(); ++i) {
      spdlog::error("{}", describe_missing(graph.missing[i], source.ref));
    }
    throw Error(describe_missing(graph.missing.front(), source.ref) + "; nothing written");
  }
  for (const auto& path : graph.files()) plan.paths.insert(path);
  spdlog::debug("{} objects resolved, {} paths in the layer", graph.nodes.size(),
                plan.paths.size());

  LayerWriter writer(layer_options);
  for (const auto& path : plan.paths) {
    EntryAttrs attrs;
    if (auto owner = plan.owners.find(path); owner != plan.owners.end()) {
      attrs.uid = attrs.gid = owner->second;
    }
    writer.add_from(path, overlay, path, attrs);
  }
  ImageSpec spec;
  auto platform = elf::platform_of(plan.arch);
  spec.platform = {platform.os, platform.architecture, platform.variant};
  spec.config = config;
  spec.epoch = layer_options.epoch;
  spec.history_comment = "dslim binary";
  TransportOptions transport = transport_options(opt.source);
  Layer layer = writer.finish(transport.cache.get());
  spdlog::trace("layer written");
  if (layer.reused)
    spdlog::debug("layer {}: same entries and contents as a cached one, not compressed again",
                  layer.blob.digest());
  std::vector<LayerFile> files = std::move(layer.files);
  Image image = build_image(spec, {std::move(layer)});

  ImageSummary summary = summarize(image, {std::move(files)});
  try {
    check_max_size(summary, max_size, "the image");
  } catch (const Error&) {
    if (opt.report == "text") std::cout << render_summary(summary, 20);
    std::cout.flush();
    throw;
  }
  std::string written = write_image(image, dest, transport);
  spdlog::trace("image written to {}", dest.str());
  if (opt.report == "json") {
    auto report = summary_json(summary);
    report["output"] = dest.str();
    std::cout << report.dump(2) << "\n";
  } else if (!spdlog::should_log(spdlog::level::info)) {
    // -q: the digest only, for scripts.
    std::cout << written << "\n";
  } else {
    std::cout << render_summary(summary, 20);
    std::cout << "wrote " << dest.str() << " (" << written << ")\n";
  }
  return 0;
}

}  // namespace

void add_binary_command(CLI::App& app, const GlobalOptions&, int& exit_code) {
  auto opt = std::make_shared<BinaryOptions>();
  auto* cmd = app.add_subcommand(
      "binary", "Build the smallest image that runs APP: the binary, its loader and libraries");
  cmd->footer(
      "Examples:\n"
      "  dslim binary ./app -o oci:./out:1.0\n"
      "  dslim binary ./app --from golang:alpine -o docker://registry.example.com/team/app:1.4\n"
      "  dslim binary ./app --from oci:./base:1.0 --platform linux/arm64 -o oci:./out:arm64\n"
      "  dslim binary ./app --from dir:./rootfs --with certs,tzdata -o oci-archive:app.tar\n"
      "  dslim binary ./server --with passwd,nss --user nonroot --expose 8080 -o "
      "docker-archive:img.tar:team/server:1.4\n"
      "  dslim binary --pick /usr/sbin/nginx --from dir:./rootfs --with passwd,tmp -o oci:./nginx\n"
      "  dslim binary ./app --add ./lib/libfoo.so.1:/app/lib/libfoo.so.1 --dest /app/bin/app -o "
      "oci:./out\n"
      "\n"
      "Placement: one APP goes to --dest (default /app); several go under --dest\n"
      "(default /usr/local/bin) by file name. The loader and every library land at\n"
      "the paths the source has them, symlink chains kept. A #! script brings its\n"
      "interpreter from the source. $ORIGIN paths are taken from the APP's place in\n"
      "the image, so put its own libraries next to it with --add.\n"
      "\n"
      "Presets (--with): certs (CA bundle, SSL_CERT_FILE), tzdata, passwd (root,\n"
      "nobody, nonroot 65532), nss (glibc NSS modules, nsswitch.conf, /etc/hosts),\n"
      "tmp (/tmp 1777), shell (/bin/sh and its libraries).\n"
      "\n"
      "Outputs: oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:NAME:TAG],\n"
      "dir:DIR (the root filesystem, for debugging). The same inputs give the same\n"
      "digest; timestamps come from SOURCE_DATE_EPOCH (default 0).\n"
      "Image sources are cached ($XDG_CACHE_HOME/dslim): a second run over the same\n"
      "base image reads no layer blob (-v shows cache hits; --no-cache to bypass).\n"
      "Exit codes: 0 done, 1 usage, 2 bad input or missing library, 3 over --max-size,\n"
      "4 registry or network.");
  add_program_options(cmd, opt->apps, opt->picks, opt->source,
                      "Program(s) on this machine to put in the image");
  cmd->add_option("-o,--output", opt->output, "Where to write the image (see Outputs)")
      ->type_name("DEST");
  cmd->add_option("--dest", opt->dest, "Where APP goes in the image (see Placement)")
      ->type_name("PATH");
  cmd->add_option("--entrypoint", opt->entrypoint,
                  "Entrypoint: a path or a JSON array (default: the first APP)")
      ->type_name("CMD");
  cmd->add_option("--cmd", opt->cmd, "Cmd: a string or a JSON array")->type_name("CMD");
  cmd->add_option("--env", opt->env, "Environment variable (repeatable)")->type_name("K=V");
  cmd->add_option("--user", opt->user, "User to run as, e.g. nonroot or 65532:65532");
  cmd->add_option("--workdir", opt->workdir, "Working directory")->type_name("DIR");
  cmd->add_option("--expose", opt->expose, "Port to expose, e.g. 8080 or 53/udp (repeatable)")
      ->type_name("PORT");
  cmd->add_option("--label", opt->labels, "Image label (repeatable)")->type_name("K=V");
  cmd->add_option("--include", opt->includes,
                  "File or directory of the source to add, with its symlinks (repeatable)")
      ->type_name("PATH");
  cmd->add_option("--add", opt->adds, "File or directory of this machine to add (repeatable)")
      ->type_name("HOST:IMAGE");
  cmd->add_option("--with", opt->with, "Presets: certs,tzdata,passwd,nss,tmp,shell")
      ->delimiter(',')
      ->type_name("LIST");
  cmd->add_option("--compression", opt->compression, "Layer compression: gzip or zstd")
      ->check(CLI::IsMember({"gzip", "zstd"}));
  cmd->add_option("--max-size", opt->max_size,
                  "Fail (exit 3, nothing written) if the image is larger, e.g. 10MB or 9.5MiB")
      ->type_name("SIZE");
  cmd->add_option("--report", opt->report, "text or json")->check(CLI::IsMember({"text", "json"}));
  cmd->callback([opt, &exit_code] { exit_code = run_binary(*opt); });
}

}  // namespace dslim::cli
