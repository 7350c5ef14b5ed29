#pragma once
// What `binary` and `image` share: the flags that shape the plan (--include,
// --add, --with, --without, --probe...) and how a plan becomes an image
// (the layer, --max-size, the output, the report).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/source.hpp"
#include "dslim/image.hpp"
#include "dslim/image_summary.hpp"
#include "dslim/reference.hpp"
#include "dslim/referrer.hpp"
#include "dslim/slim.hpp"
#include "transport/temp_path.hpp"

namespace dslim::cli {

struct SlimFlags {
  SourceFlags source;
  std::string output;
  std::string dest_creds;
  std::vector<std::string> env;
  std::vector<std::string> includes;
  std::vector<std::string> adds;
  std::vector<std::string> with;
  std::vector<std::string> without;
  bool allow_missing_symbols = false;
  std::vector<std::string> probes;
  double probe_timeout = 10;
  std::vector<std::string> probe_http;
  std::string compression = "gzip";
  std::optional<int> compression_level;
  std::string max_size;
  std::string report = "text";
  bool no_package_metadata = false;
  std::vector<std::string> sbom_out;
  bool no_sbom_attach = false;
};

// -o, --dest-creds, --env, --include, --add, --with, --without, --allow-missing-symbols,
// --probe, --probe-timeout, --probe-http, --compression, --compression-level, --max-size, --report,
// --no-package-metadata, --sbom-out, --no-sbom-attach.
// `probe_help` says what a probe runs.
void add_slim_options(CLI::App* cmd, SlimFlags& flags, const std::string& probe_help);

// The request's fields the shared flags give (`apps`, `picks`, the config
// and the probes' command are the command's own).
void fill_request(const SlimFlags& flags, slim::SlimRequest& request);

// "--entrypoint /app" or a JSON array: '["/app", "--flag"]'.
std::vector<std::string> command_words(const std::string& text, const char* option);

// The transport options for writing to -o: the source's, with --dest-creds
// for the registry when given.
TransportOptions output_transport_options(const SlimFlags& flags);

// SOURCE_DATE_EPOCH, or 0.
int64_t source_date_epoch();

// The plan written as an image to flags.output, and the report on stdout.
// Missing libraries and symbols are reported and thrown first (nothing is
// written); so is an image over --max-size. `source_size` (an image
// source's bytes) adds the "SRC → X from Y (Z%)" line.
struct SlimOutput {
  ImageSpec spec;  // config, platform and history; epoch from SOURCE_DATE_EPOCH
  std::optional<uint64_t> source_size;
};
int write_slim_image(const SlimFlags& flags, const Source& source,
                     const rootfs::OverlayRootFs& overlay, const slim::SlimPlan& plan,
                     SlimOutput output);

// The first half of write_slim_image: the plan built into an image, not
// written (warnings logged, failures thrown, --max-size checked with the
// report printed first), and its text report.
struct BuiltImage {
  Image image;
  ImageSummary summary;
  std::string text_report;  // inferred needs, probes, files, sizes
};
BuiltImage build_slim_image(const SlimFlags& flags, const Source& source,
                            const rootfs::OverlayRootFs& overlay, const slim::SlimPlan& plan,
                            const SlimOutput& output);

// The --sbom-out documents of one image (`names`: the files, FILE.spdx.json
// or FILE.cdx.json), each written now to a temporary file that commit()
// renames into place once the image is written, and, when `dest` holds
// referrers and --no-sbom-attach is not given, built as a referrer of
// `image` (a warning when it cannot hold one).
struct SbomOutputs {
  std::vector<std::unique_ptr<TempFile>> files;
  std::vector<Referrer> referrers;
  void commit();
};
SbomOutputs build_sboms(const SlimFlags& flags, const std::vector<std::string>& names,
                        const slim::SlimPlan& plan, const rootfs::OverlayRootFs& overlay,
                        const Reference& dest, const Image& image, int64_t epoch);

// The report's "referrers": artifactType, digest and subject of each.
nlohmann::json referrers_json(const std::vector<Referrer>& referrers);
// "attached FILE (DIGEST)" on stdout, for each.
void print_attached(const std::vector<Referrer>& referrers);

// --sbom-out FILE for one platform of --multi-arch: app.spdx.json for
// linux/arm64/v8 is app.linux-arm64-v8.spdx.json.
std::string platform_sbom_name(const std::string& file, const oci::Platform& platform);

}  // namespace dslim::cli
