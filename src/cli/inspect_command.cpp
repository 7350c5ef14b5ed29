// `dslim inspect`: what an image holds, largest first; a size gate for CI.
#include <iostream>

#include "cli/commands.hpp"
#include "cli/image_report.hpp"
#include "cli/size.hpp"
#include "cli/source.hpp"
#include "dslim/error.hpp"
#include "dslim/image_summary.hpp"
#include "dslim/source.hpp"

namespace dslim::cli {

namespace {

struct InspectOptions {
  std::string image;
  std::string format = "text";
  std::string max_size;
  size_t limit = 0;
  SourceFlags source;  // --platform, the cache and registry options
};

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

int run_inspect(const InspectOptions& opt) {
  uint64_t max_size = opt.max_size.empty() ? 0 : parse_size(opt.max_size);
  Reference ref = parse_reference(opt.image);
  ImageSummary summary =
      summarize(load_image(ref, wanted_platform(opt.source, {}), transport_options(opt.source)));
  if (opt.format == "json") {
    std::cout << summary_json(summary).dump(2) << "\n";
  } else {
    const auto& c = summary.config;
    std::cout << "image:      " << ref.str() << "\n"
              << "digest:     " << summary.manifest_digest << "\n"
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
      "\n"
      "IMAGE: oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:NAME:TAG].");
  cmd->add_option("IMAGE", opt->image, "The image to read")->required();
  cmd->add_option("--format", opt->format, "text or json")->check(CLI::IsMember({"text", "json"}));
  cmd->add_option("--max-size", opt->max_size, "Exit 3 if the image is larger, e.g. 10MB")
      ->type_name("SIZE");
  cmd->add_option("--limit", opt->limit, "Show at most N files (0 = all)")->type_name("N");
  add_source_options(cmd, opt->source, false);
  cmd->callback([opt, &exit_code] { exit_code = run_inspect(*opt); });
}

}  // namespace dslim::cli
