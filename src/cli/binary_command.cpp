// `dslim binary`: the main job, a slim image for one or more binaries.

#include <chrono>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <sstream>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/deps_report.hpp"
#include "cli/image_report.hpp"
#include "cli/size.hpp"
#include "cli/source.hpp"
#include "dslim/blob_cache.hpp"
#include "dslim/environment.hpp"
#include "dslim/error.hpp"
#include "dslim/image.hpp"
#include "dslim/image_summary.hpp"
#include "dslim/layer_writer.hpp"
#include "dslim/reference.hpp"
#include "dslim/shell_words.hpp"
#include "dslim/sink.hpp"
#include "dslim/slim.hpp"

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
  std::vector<std::string> without;
  bool allow_missing_symbols = false;
  std::vector<std::string> probes;
  double probe_timeout = 10;
  std::vector<std::string> probe_http;
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

oci::ContainerConfig container_config(const BinaryOptions& opt, const slim::SlimPlan& plan) {
  oci::ContainerConfig config;
  config.entrypoint = command_words(opt.entrypoint, "--entrypoint");
  if (config.entrypoint.empty()) config.entrypoint = {plan.entry_paths.front()};
  config.cmd = command_words(opt.cmd, "--cmd");
  config.env = slim::merge_env(slim::merge_env({kDefaultPath}, plan.env), opt.env);
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

// --probe ARGS (shell words) and --probe-http PORT[/PATH]: one probe per
// --probe, each fetching the HTTP paths; --probe-http alone probes once,
// with --cmd.
std::vector<slim::ProbeRequest> probe_requests(const BinaryOptions& opt) {
  if (opt.probe_timeout <= 0)
    throw Error("--probe-timeout: must be more than 0 seconds", ErrorKind::Usage);
  uint16_t port = 0;
  std::vector<std::string> paths;
  for (const auto& http : opt.probe_http) {
    const auto slash = http.find('/');
    const std::string number = http.substr(0, slash);
    unsigned long value = 0;
    try {
      size_t used = 0;
      value = std::stoul(number, &used);
      if (used != number.size()) value = 0;
    } catch (const std::exception&) {
      value = 0;
    }
    if (value == 0 || value > 65535) {
      throw Error("--probe-http " + http + ": expected PORT or PORT/PATH, e.g. 8080/healthz",
                  ErrorKind::Usage);
    }
    if (port != 0 && port != value)
      throw Error("--probe-http " + http + ": one port per image (" + std::to_string(port) +
                      " was named before)",
                  ErrorKind::Usage);
    port = static_cast<uint16_t>(value);
    paths.push_back(slash == std::string::npos ? "/" : http.substr(slash));
  }
  std::vector<slim::ProbeRequest> out;
  for (const auto& text : opt.probes)
    out.push_back({slim::split_shell_words(text, "--probe"), port, paths});
  if (out.empty() && port != 0) out.push_back({{}, port, paths});
  return out;
}

// Each probe in a line: what it ran, how it ended, what it brought.
std::string render_probes(const slim::SlimPlan& plan) {
  std::ostringstream out;
  for (const auto& p : plan.probes) {
    std::string args;
    for (const auto& a : p.args) args += (args.empty() ? "" : " ") + a;
    out << "probe \"" << args << "\": ";
    if (p.timed_out)
      out << "killed at the timeout";
    else if (p.stopped)
      out << "stopped after its HTTP requests";
    else if (p.signal != 0)
      out << "killed by signal " << p.signal;
    else
      out << "exit " << p.exit_code;
    out << " in " << std::fixed << std::setprecision(2) << p.seconds << " s, " << p.added.size()
        << " files added";
    if (!p.refused.empty()) out << ", " << p.refused.size() << " calls refused";
    out << "\n";
    for (const auto& get : p.http) {
      out << "  GET " << get.path << ": ";
      if (get.status != 0)
        out << get.status << ", " << get.bytes << " bytes\n";
      else
        out << get.error << "\n";
    }
  }
  return out.str();
}

nlohmann::json probes_json(const slim::SlimPlan& plan) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& p : plan.probes) {
    nlohmann::json status = p.timed_out     ? nlohmann::json("timeout")
                            : p.stopped     ? nlohmann::json("stopped")
                            : p.signal != 0 ? nlohmann::json("signal " + std::to_string(p.signal))
                                            : nlohmann::json(p.exit_code);
    nlohmann::json http = nlohmann::json::array();
    for (const auto& get : p.http) {
      http.push_back({{"path", get.path}, {"status", get.status}, {"bytes", get.bytes}});
      if (!get.error.empty()) http.back()["error"] = get.error;
    }
    out.push_back({{"args", p.args},
                   {"status", status},
                   {"seconds", p.seconds},
                   {"setup_seconds", p.setup_seconds},
                   {"written",
                    {{"entries", p.written_entries},
                     {"bytes", p.written_bytes},
                     {"seconds", p.write_seconds}}},
                   {"added", p.added},
                   {"refused", p.refused},
                   {"http", http}});
  }
  return out;
}

// Missing libraries and symbols, each on its own line (errors first); the
// first error is thrown, so that nothing is written.
void report_failures(const slim::SlimPlan& plan, const std::string& source) {
  std::vector<std::string> errors;
  for (const auto& missing : plan.graph.missing)
    errors.push_back(describe_missing(missing, source));
  for (const auto& problem : plan.symbols) {
    std::string line = describe_symbol_problem(problem, source);
    if (problem.error)
      errors.push_back(line);
    else
      spdlog::warn("{}", line);
  }
  if (errors.empty()) return;
  for (size_t i = 1; i < errors.size(); ++i) spdlog::error("{}", errors[i]);
  const bool symbols = plan.graph.missing.empty();
  throw Error(errors.front() + "; nothing written" +
              (symbols ? " (--allow-missing-symbols writes it anyway)" : ""));
}

// The needs inferred, with their reasons, for the report.
std::string render_inferred(const slim::SlimPlan& plan) {
  std::string out;
  for (const auto& need : plan.inferred)
    out += "inferred " + need.what + " \u2014 " + need.reason + "\n";
  return out;
}

nlohmann::json inferred_json(const slim::SlimPlan& plan) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& need : plan.inferred)
    out.push_back(
        {{"need", need.what}, {"kind", resolve::to_string(need.kind)}, {"reason", need.reason}});
  return out;
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
  slim::SlimRequest request;
  request.apps = opt.apps;
  request.picks = opt.picks;
  request.dest = opt.dest;
  request.adds = opt.adds;
  request.includes = opt.includes;
  request.with = opt.with;
  request.without = opt.without;
  request.allow_missing_symbols = opt.allow_missing_symbols;
  // The Env the image runs with, but for what presets add (none sets
  // LD_LIBRARY_PATH or TZ): the source's, then dslim's default, then the user's.
  request.env = slim::merge_env(slim::merge_env(source.env, {kDefaultPath}), opt.env);
  request.resolve = resolve_options(opt.source, {});
  request.probes = probe_requests(opt);
  request.probe_timeout = std::chrono::milliseconds(static_cast<int64_t>(opt.probe_timeout * 1000));
  request.entrypoint = command_words(opt.entrypoint, "--entrypoint");
  request.cmd = command_words(opt.cmd, "--cmd");
  request.user = opt.user;
  request.workdir = opt.workdir;
  slim::SlimPlan plan = slim::plan_image(request, overlay);
  oci::ContainerConfig config = container_config(opt, plan);
  for (const auto& warning : plan.graph.warnings) spdlog::warn("{}", warning);
  for (const auto& warning : plan.warnings) spdlog::warn("{}", warning);
  for (const auto& note : plan.notes) spdlog::debug("{}", note);
  for (const auto& probe : plan.probes) {
    for (const auto& refused : probe.refused) spdlog::warn("probe: refused (EPERM) {}", refused);
    for (const auto& [path, who] : probe.touched_by)
      spdlog::debug("probe added {} ({})", path, who);
    if (probe.written_entries != 0)
      spdlog::debug(
          "probe: {} entries ({} bytes) of the image written out for the sandbox in {:.3f} s",
          probe.written_entries, probe.written_bytes, probe.write_seconds);
  }
  report_failures(plan, source.ref);
  spdlog::debug("{} objects resolved, {} paths in the layer", plan.graph.nodes.size(),
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
    if (opt.report == "text")
      std::cout << render_inferred(plan) << render_probes(plan) << render_summary(summary, 20);
    std::cout.flush();
    throw;
  }
  std::string written = write_image(image, dest, transport);
  spdlog::trace("image written to {}", dest.str());
  if (opt.report == "json") {
    auto report = summary_json(summary);
    report["output"] = dest.str();
    report["inferred"] = inferred_json(plan);
    report["probes"] = probes_json(plan);
    report["symbols"] = nlohmann::json::array();
    for (const auto& problem : plan.symbols)
      report["symbols"].push_back(symbol_problem_json(problem));
    report["warnings"] = plan.warnings;
    std::cout << report.dump(2) << "\n";
  } else if (!spdlog::should_log(spdlog::level::info)) {
    // -q: the digest only, for scripts.
    std::cout << written << "\n";
  } else {
    std::cout << render_inferred(plan) << render_probes(plan) << render_summary(summary, 20);
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
      "  dslim binary --pick /usr/bin/python3 --from oci:./debian --probe '-c \"import json\"' -o "
      "oci:./py\n"
      "  dslim binary ./server --probe-http 8080/healthz --cmd '[\"--port\", \"8080\"]' -o "
      "oci:./srv\n"
      "\n"
      "Placement: one APP goes to --dest (default /app); several go under --dest\n"
      "(default /usr/local/bin) by file name. The loader and every library land at\n"
      "the paths the source has them, symlink chains kept. A #! script brings its\n"
      "interpreter from the source. $ORIGIN paths are taken from the APP's place in\n"
      "the image, so put its own libraries next to it with --add.\n"
      "\n"
      "Presets (--with): certs (CA bundle, SSL_CERT_FILE), tzdata, passwd (root,\n"
      "nobody, nonroot 65532, and the source's system accounts, ids below 1000, such\n"
      "as www-data), nss (nsswitch.conf, /etc/hosts, /etc/services; glibc's\n"
      "NSS modules before 2.34), tmp (/tmp 1777), shell (/bin/sh and its libraries),\n"
      "gconv (every iconv module of glibc).\n"
      "\n"
      "Inferred needs: what the code imports adds what no ELF header names, and the\n"
      "report says why: getpwuid and kin -> passwd; getaddrinfo and kin -> nss; a TLS\n"
      "library (libssl, libgnutls, libmbedtls, libwolfssl) -> certs; pthread_cancel or\n"
      "pthread_exit -> libgcc_s.so.1 (glibc unwinds through it); iconv_open in a\n"
      "program -> the gconv modules of the charsets its literals name (a library's\n"
      "charset tables are not taken: --with gconv takes every module); a Go\n"
      "program's os/user, net resolver, crypto/x509 system roots, time.LoadLocation\n"
      "-> passwd, nss, certs, tzdata; TZ=Area/City in the Env -> that zone. ELF files\n"
      "taken with --add, --include or a preset bring their own libraries. dlopen in a\n"
      "program with library names among its literals is a warning naming them.\n"
      "--without passwd,certs drops some, --without all turns inference off.\n"
      "\n"
      "Symbols: the programs must be able to start on the source's libraries. A\n"
      "version a library lacks (GLIBC_2.34 from an older glibc) or a function no\n"
      "object defines is an error (exit 2, nothing written) naming the program, the\n"
      "symbol, the version and the library; --allow-missing-symbols makes it a\n"
      "warning. A symbol a library lacks is a warning (glibc binds it lazily).\n"
      "\n"
      "Probes (--probe ARGS): the entrypoint runs once per --probe, with ARGS, in a\n"
      "sandbox (user, mount, PID, IPC, UTS and network namespaces, loopback only) whose\n"
      "/ is the source with the APPs and --add files in place, over a scratch layer:\n"
      "nothing it writes reaches the source or this machine. Every file of the source\n"
      "it or its children open, execute, stat or read a link of goes into the image\n"
      "(with its libraries); directories it lists or writes into come as directories.\n"
      "An image source is written out to a temporary directory first. No sandbox\n"
      "here (user namespaces disabled and not root): exit 2, never run unconfined.\n"
      "\n"
      "Outputs: oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:NAME:TAG],\n"
      "dir:DIR (the root filesystem, for debugging). The same inputs give the same\n"
      "digest; timestamps come from SOURCE_DATE_EPOCH (default 0).\n"
      "Image sources are cached ($XDG_CACHE_HOME/dslim): a second run over the same\n"
      "base image reads no layer blob (-v shows cache hits; --no-cache to bypass).\n"
      "Exit codes: 0 done, 1 usage, 2 bad input, missing library or symbol, 3 over\n"
      "--max-size, 4 registry or network.");
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
  cmd->add_option("--with", opt->with, "Presets: certs,tzdata,passwd,nss,tmp,shell,gconv")
      ->delimiter(',')
      ->type_name("LIST");
  cmd->add_option("--without", opt->without,
                  "Needs not to infer: passwd,nss,certs,tzdata,gconv,libgcc_s,tz, or all")
      ->delimiter(',')
      ->type_name("LIST");
  cmd->add_flag("--allow-missing-symbols", opt->allow_missing_symbols,
                "Write the image though a program needs a symbol or version the source lacks");
  cmd->add_option("--probe", opt->probes,
                  "Run the entrypoint with ARGS (shell words) in a sandbox over the source and "
                  "keep every file it touches (repeatable; \"\" for no arguments)")
      ->type_name("ARGS");
  cmd->add_option("--probe-timeout", opt->probe_timeout,
                  "Seconds a probe may run; then SIGTERM, and SIGKILL 2 s later (default 10)")
      ->type_name("SECONDS");
  cmd->add_option("--probe-http", opt->probe_http,
                  "Probe a server: once PORT accepts on the sandbox's loopback, GET each PATH, "
                  "then stop it (repeatable)")
      ->type_name("PORT[/PATH]");
  cmd->add_option("--compression", opt->compression, "Layer compression: gzip or zstd")
      ->check(CLI::IsMember({"gzip", "zstd"}));
  cmd->add_option("--max-size", opt->max_size,
                  "Fail (exit 3, nothing written) if the image is larger, e.g. 10MB or 9.5MiB")
      ->type_name("SIZE");
  cmd->add_option("--report", opt->report, "text or json")->check(CLI::IsMember({"text", "json"}));
  cmd->callback([opt, &exit_code] { exit_code = run_binary(*opt); });
}

}  // namespace dslim::cli
