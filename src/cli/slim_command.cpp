// What `binary` and `image` share: see slim_command.hpp.
#include "cli/slim_command.hpp"

#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "cli/deps_report.hpp"
#include "cli/image_report.hpp"
#include "cli/size.hpp"
#include "dslim/blob_cache.hpp"
#include "dslim/error.hpp"
#include "dslim/image_summary.hpp"
#include "dslim/layer_writer.hpp"
#include "dslim/reference.hpp"
#include "dslim/shell_words.hpp"
#include "dslim/sink.hpp"
#include "transport/temp_path.hpp"

namespace dslim::cli {

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

namespace {

// --probe ARGS (shell words) and --probe-http PORT[/PATH]: one probe per
// --probe, each fetching the HTTP paths; --probe-http alone probes once,
// with --cmd.
std::vector<slim::ProbeRequest> probe_requests(const SlimFlags& opt) {
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
  // --probe-http alone: the command as the image runs it.
  if (out.empty() && port != 0) out.push_back({std::nullopt, port, paths});
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
        << (p.added.size() == 1 ? " file added" : " files added");
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

// "debian-app:1 → 11.2 MB from 98.4 MB (11.4%)"
std::string size_line(const std::string& source, uint64_t slim, uint64_t original) {
  char percent[32];
  std::snprintf(percent, sizeof percent, "%.1f%%", original ? 100.0 * slim / original : 0.0);
  return source + " \u2192 " + format_size(slim) + " from " + format_size(original) + " (" +
         percent + ")\n";
}

}  // namespace

void add_slim_options(CLI::App* cmd, SlimFlags& flags, const std::string& probe_help) {
  cmd->add_option("-o,--output", flags.output, "Where to write the image (see Outputs)")
      ->type_name("DEST");
  cmd->add_option("--dest-creds", flags.dest_creds,
                  "Credentials for the -o registry only; --creds and the credential files "
                  "still serve the source")
      ->type_name("USER:PASS");
  cmd->add_option("--env", flags.env, "Environment variable (repeatable)")->type_name("K=V");
  cmd->add_option("--include", flags.includes,
                  "File or directory of the source to add, with its symlinks (repeatable)")
      ->type_name("PATH");
  cmd->add_option("--add", flags.adds, "File or directory of this machine to add (repeatable)")
      ->type_name("HOST:IMAGE");
  cmd->add_option("--with", flags.with, "Presets: certs,tzdata,passwd,nss,tmp,shell,gconv")
      ->delimiter(',')
      ->type_name("LIST");
  cmd->add_option("--without", flags.without,
                  "Needs not to infer: passwd,nss,certs,tzdata,gconv,libgcc_s,tz, or all")
      ->delimiter(',')
      ->type_name("LIST");
  cmd->add_flag("--allow-missing-symbols", flags.allow_missing_symbols,
                "Write the image though a program needs a symbol or version the source lacks");
  cmd->add_option("--probe", flags.probes, probe_help)->type_name("ARGS");
  cmd->add_option("--probe-timeout", flags.probe_timeout,
                  "Seconds a probe may run; then its stop signal, and SIGKILL 2 s later "
                  "(default 10)")
      ->type_name("SECONDS");
  cmd->add_option("--probe-http", flags.probe_http,
                  "Probe a server: once PORT accepts on the sandbox's loopback, GET each PATH, "
                  "then stop it (repeatable)")
      ->type_name("PORT[/PATH]");
  cmd->add_option("--compression", flags.compression, "Layer compression: gzip or zstd")
      ->check(CLI::IsMember({"gzip", "zstd"}));
  cmd->add_option("--compression-level", flags.compression_level,
                  "gzip 1-12 (default 6), zstd 1-19 (default 3): higher is smaller and slower")
      ->type_name("N");
  cmd->add_option("--max-size", flags.max_size,
                  "Fail (exit 3, nothing written) if the image is larger, e.g. 10MB or 9.5MiB")
      ->type_name("SIZE");
  cmd->add_option("--report", flags.report, "text or json")->check(CLI::IsMember({"text", "json"}));
  cmd->add_flag("--no-package-metadata", flags.no_package_metadata,
                "Leave out the kept packages' database entries and copyright files");
  cmd->add_option("--sbom-out", flags.sbom_out,
                  "Write an SBOM of the image: FILE.spdx.json (SPDX 2.3) or FILE.cdx.json "
                  "(CycloneDX 1.5) (repeatable); to oci:, oci-archive: and docker:// it is "
                  "also attached to the image (an OCI referrer); with --multi-arch, one per "
                  "platform: FILE.linux-arm64.spdx.json")
      ->type_name("FILE");
  cmd->add_flag("--no-sbom-attach", flags.no_sbom_attach,
                "Write the --sbom-out files only; attach nothing to the image");
}

namespace {

LayerOptions flags_layer_options(const SlimFlags& flags) {
  LayerOptions options;
  options.compression = parse_compression(flags.compression);
  if (flags.compression_level) set_compression_level(options, *flags.compression_level);
  return options;
}

}  // namespace

TransportOptions output_transport_options(const SlimFlags& flags) {
  TransportOptions options = transport_options(flags.source);
  if (!flags.dest_creds.empty()) options.registry.creds = flags.dest_creds;
  return options;
}

void fill_request(const SlimFlags& flags, slim::SlimRequest& request) {
  if (flags.output.empty())
    throw Error("name the output with -o, e.g. -o oci:./out:latest", ErrorKind::Usage);
  flags_layer_options(flags);  // a bad level is refused before any work
  for (const auto& e : flags.env) {
    if (e.find('=') == std::string::npos || e.front() == '=')
      throw Error("--env " + e + ": expected KEY=VALUE", ErrorKind::Usage);
  }
  request.includes = flags.includes;
  request.adds = flags.adds;
  request.with = flags.with;
  request.without = flags.without;
  request.allow_missing_symbols = flags.allow_missing_symbols;
  request.probes = probe_requests(flags);
  request.probe_timeout =
      std::chrono::milliseconds(static_cast<int64_t>(flags.probe_timeout * 1000));
  request.package_metadata = !flags.no_package_metadata;
  request.list_packages = !flags.sbom_out.empty();
  for (const auto& file : flags.sbom_out) {
    if (!file.ends_with(".spdx.json") && !file.ends_with(".cdx.json"))
      throw Error("--sbom-out " + file +
                      ": the name says the format: FILE.spdx.json (SPDX) or FILE.cdx.json "
                      "(CycloneDX)",
                  ErrorKind::Usage);
  }
}

BuiltImage build_slim_image(const SlimFlags& flags, const Source& source,
                            const rootfs::OverlayRootFs& overlay, const slim::SlimPlan& plan,
                            const SlimOutput& output) {
  const uint64_t max_size = flags.max_size.empty() ? 0 : parse_size(flags.max_size);
  LayerOptions layer_options = flags_layer_options(flags);
  layer_options.epoch = output.spec.epoch;

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
      attrs.uid = owner->second.uid;
      attrs.gid = owner->second.gid;
    }
    writer.add_from(path, overlay, path, attrs);
  }
  TransportOptions transport = transport_options(flags.source);
  Layer layer = writer.finish(transport.cache.get());
  spdlog::trace("layer written");
  if (layer.reused)
    spdlog::debug("layer {}: same entries and contents as a cached one, not compressed again",
                  layer.blob.digest());
  std::vector<LayerFile> files = std::move(layer.files);
  BuiltImage built{build_image(output.spec, {std::move(layer)}), {}, {}};
  built.summary = summarize(built.image, {std::move(files)});
  const std::string sizes =
      output.source_size ? size_line(source.ref, built.summary.image_bytes, *output.source_size)
                         : "";
  built.text_report =
      render_inferred(plan) + render_probes(plan) + render_summary(built.summary, 20) + sizes;
  try {
    check_max_size(built.summary, max_size, "the image");
  } catch (const Error&) {
    if (flags.report == "text") std::cout << built.text_report;
    std::cout.flush();
    throw;
  }
  return built;
}

void SbomOutputs::commit() {
  for (auto& file : files) file->commit();
}

SbomOutputs build_sboms(const SlimFlags& flags, const std::vector<std::string>& names,
                        const slim::SlimPlan& plan, const rootfs::OverlayRootFs& overlay,
                        const Reference& dest, const Image& image, int64_t epoch) {
  SbomOutputs out;
  if (names.empty()) return out;
  const bool attach = !flags.no_sbom_attach && holds_referrers(dest.transport);
  const auto input =
      slim::sbom_input(plan, overlay, dest.str(), image.manifest_blob.digest(), epoch);
  for (const auto& file : names) {
    const bool spdx = file.ends_with(".spdx.json");
    std::string document = spdx ? packages::spdx_json(input) : packages::cyclonedx_json(input);
    out.files.push_back(std::make_unique<TempFile>(file));
    out.files.back()->write(document);
    if (attach)
      out.referrers.push_back(build_referrer(
          image, spdx ? oci::media_type::kSpdxJson : oci::media_type::kCycloneDxJson,
          std::move(document), std::filesystem::path(file).filename().string(), epoch));
  }
  if (!attach && !flags.no_sbom_attach)
    spdlog::warn("{} cannot hold an attached SBOM; it is in the --sbom-out files only", dest.str());
  return out;
}

nlohmann::json referrers_json(const std::vector<Referrer>& referrers) {
  auto out = nlohmann::json::array();
  for (const auto& r : referrers)
    out.push_back({{"artifactType", r.manifest.artifact_type},
                   {"digest", r.manifest_blob.digest()},
                   {"subject", r.manifest.subject ? r.manifest.subject->digest : ""}});
  return out;
}

void print_attached(const std::vector<Referrer>& referrers) {
  for (const auto& r : referrers)
    std::cout << "attached " << r.manifest.layers.front().annotations.at(oci::kTitleAnnotation)
              << " (" << r.manifest_blob.digest() << ")\n";
}

std::string platform_sbom_name(const std::string& file, const oci::Platform& platform) {
  // The name says the format (fill_request checked): the platform goes before it.
  const std::string_view suffix = file.ends_with(".spdx.json") ? ".spdx.json" : ".cdx.json";
  const size_t ext = file.size() - suffix.size();
  std::string tag = platform.os + "-" + platform.architecture;
  if (!platform.variant.empty()) tag += "-" + platform.variant;
  return file.substr(0, ext) + "." + tag + file.substr(ext);
}

int write_slim_image(const SlimFlags& flags, const Source& source,
                     const rootfs::OverlayRootFs& overlay, const slim::SlimPlan& plan,
                     SlimOutput output) {
  const Reference dest = parse_reference(flags.output);
  BuiltImage built = build_slim_image(flags, source, overlay, plan, output);
  const Image& image = built.image;
  const ImageSummary& summary = built.summary;
  const TransportOptions transport = output_transport_options(flags);
  // The SBOMs before the image: an error leaves nothing written; they are
  // renamed into place once the image is, and go with it as its referrers.
  SbomOutputs sboms =
      build_sboms(flags, flags.sbom_out, plan, overlay, dest, image, output.spec.epoch);
  const std::vector<Referrer>& referrers = sboms.referrers;
  std::string written = write_image(image, dest, transport, referrers);
  sboms.commit();
  spdlog::trace("image written to {}", dest.str());
  if (flags.report == "json") {
    auto report = summary_json(summary);
    report["output"] = dest.str();
    report["inferred"] = inferred_json(plan);
    report["probes"] = probes_json(plan);
    report["symbols"] = nlohmann::json::array();
    for (const auto& problem : plan.symbols)
      report["symbols"].push_back(symbol_problem_json(problem));
    report["warnings"] = plan.warnings;
    if (output.source_size)
      report["source"] = {{"ref", source.ref}, {"image_bytes", *output.source_size}};
    report["referrers"] = referrers_json(referrers);
    std::cout << report.dump(2) << "\n";
  } else if (!spdlog::should_log(spdlog::level::info)) {
    // -q: the digest only, for scripts.
    std::cout << written << "\n";
  } else {
    std::cout << built.text_report << "wrote " << dest.str() << " (" << written << ")\n";
    print_attached(referrers);
  }
  return 0;
}

}  // namespace dslim::cli
