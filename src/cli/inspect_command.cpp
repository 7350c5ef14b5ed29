// `dslim inspect`: what an image holds, largest first; a size gate for CI;
// with --sbom, the packages it carries.
#include <iomanip>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/image_report.hpp"
#include "cli/size.hpp"
#include "cli/source.hpp"
#include "dslim/error.hpp"
#include "dslim/image_packages.hpp"
#include "dslim/image_summary.hpp"
#include "dslim/source.hpp"

namespace dslim::cli {

namespace {

struct InspectOptions {
  std::string image;
  std::string format = "text";
  std::string max_size;
  size_t limit = 0;
  bool sbom = false;
  SourceFlags source;  // --platform, the cache and registry options
};

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

int run_packages(const InspectOptions& opt) {
  const Reference ref = parse_reference(opt.image);
  const TransportOptions transport = transport_options(opt.source);
  SourceFlags from = opt.source;
  from.from = opt.image;
  const Source source = open_source(from, {});
  if (source.digest.empty())
    throw Error(ref.str() + ": a dir: reference is a root filesystem, not an image",
                ErrorKind::Usage);
  const std::string& digest = source.digest;
  const auto found = slim::image_packages(ref, digest, *source.fs, transport);
  if (opt.format == "json") {
    auto list = nlohmann::json::array();
    for (const auto& p : found.packages)
      list.push_back({{"name", p.name},
                      {"version", p.version},
                      {"architecture", p.architecture},
                      {"license", p.license},
                      {"purl", p.purl}});
    nlohmann::json out = {{"image", ref.str()}, {"digest", digest}, {"packages", list}};
    out["origin"] = found.origin.empty() ? nlohmann::json() : nlohmann::json(found.origin);
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::cout << "image:    " << ref.str() << "\n"
            << "digest:   " << digest << "\n";
  if (found.origin.empty()) {
    std::cout << "packages: none (no package database in the image, no SBOM attached to it)\n";
    return 0;
  }
  std::cout << "packages: " << found.packages.size() << ", from " << found.origin << "\n";
  size_t widths[3] = {4, 7, 4};  // NAME, VERSION, ARCH
  for (const auto& p : found.packages) {
    widths[0] = std::max(widths[0], p.name.size());
    widths[1] = std::max(widths[1], p.version.size());
    widths[2] = std::max(widths[2], p.architecture.size());
  }
  auto row = [&](const std::string& a, const std::string& b, const std::string& c,
                 const std::string& d) {
    std::cout << std::left << std::setw(static_cast<int>(widths[0]) + 2) << a
              << std::setw(static_cast<int>(widths[1]) + 2) << b
              << std::setw(static_cast<int>(widths[2]) + 2) << c << d << "\n";
  };
  row("NAME", "VERSION", "ARCH", "LICENSE");
  for (const auto& p : found.packages) row(p.name, p.version, p.architecture, p.license);
  return 0;
}

int run_inspect(const InspectOptions& opt) {
  if (opt.sbom) return run_packages(opt);
  uint64_t max_size = opt.max_size.empty() ? 0 : parse_size(opt.max_size);
  Reference ref = parse_reference(opt.image);
  const TransportOptions transport = transport_options(opt.source);
  // A multi-platform image: every platform listed, the one asked for shown.
  std::vector<oci::Descriptor> platforms;
  const auto index = read_index(ref, transport);
  if (index)
    for (const auto& m : index->manifests)
      if (m.platform && m.platform->os != "unknown" && m.platform->architecture != "unknown")
        platforms.push_back(m);
  const oci::Platform platform = wanted_platform(opt.source, {});
  ImageSummary summary = summarize(index ? load_image(ref, *index, platform, transport)
                                         : load_image(ref, platform, transport));
  if (opt.format == "json") {
    auto out = summary_json(summary);
    if (!platforms.empty()) {
      out["platforms"] = nlohmann::json::array();
      for (const auto& m : platforms)
        out["platforms"].push_back(
            {{"platform", oci::to_string(*m.platform)}, {"digest", m.digest}, {"size", m.size}});
    }
    std::cout << out.dump(2) << "\n";
  } else {
    const auto& c = summary.config;
    std::cout << "image:      " << ref.str() << "\n";
    for (const auto& m : platforms)
      std::cout << "index of:   " << oci::to_string(*m.platform) << " " << m.digest
                << (m.digest == summary.manifest_digest ? "  (shown below)" : "") << "\n";
    std::cout << "digest:     " << summary.manifest_digest << "\n"
              << "platform:   " << oci::to_string(c.platform) << "\n"
              << "entrypoint: " << join(c.config.entrypoint) << "\n";
    if (!c.config.cmd.empty()) std::cout << "cmd:        " << join(c.config.cmd) << "\n";
    if (!c.config.user.empty()) std::cout << "user:       " << c.config.user << "\n";
    for (const auto& e : c.config.env) std::cout << "env:        " << e << "\n";
    for (const auto& l : summary.layers) {
      std::cout << "layer:      " << l.digest << " " << format_size(l.size) << " " << l.media_type
                << "\n";
    }
    std::cout << render_summary(summary, opt.limit);
  }
  std::cout.flush();
  check_max_size(summary, max_size, ref.str());
  return 0;
}

}  // namespace

void add_inspect_command(CLI::App& app, const GlobalOptions&, int& exit_code) {
  auto opt = std::make_shared<InspectOptions>();
  auto* cmd = app.add_subcommand("inspect", "Show an image's files and sizes, largest first");
  cmd->footer(
      "Examples:\n"
      "  dslim inspect oci:./out:1.0\n"
      "  dslim inspect docker-archive:img.tar --format json | jq .totals\n"
      "  dslim inspect oci-archive:app.tar --max-size 10MB   # exit 3 when larger\n"
      "  dslim inspect docker://registry:5000/team/app:1.4 --sbom   # its packages\n"
      "\n"
      "IMAGE: oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:NAME:TAG],\n"
      "docker://HOST/REPO[:TAG].");
  cmd->add_option("IMAGE", opt->image, "The image to read")->required();
  cmd->add_option("--format", opt->format, "text or json")->check(CLI::IsMember({"text", "json"}));
  cmd->add_option("--max-size", opt->max_size, "Exit 3 if the image is larger, e.g. 10MB")
      ->type_name("SIZE");
  cmd->add_option("--limit", opt->limit, "Show at most N files (0 = all)")->type_name("N");
  cmd->add_flag("--sbom", opt->sbom,
                "List the image's packages: from its package database, else from an SBOM "
                "attached to it");
  add_source_options(cmd, opt->source, false);
  cmd->callback([opt, &exit_code] { exit_code = run_inspect(*opt); });
}

}  // namespace dslim::cli
