#pragma once
// Each subcommand registers itself on the app; its callback sets the exit code.
#include <CLI/CLI.hpp>

namespace dslim::cli {

struct GlobalOptions {
  int verbose = 0;
  bool quiet = false;
};

void add_deps_command(CLI::App& app, const GlobalOptions& global, int& exit_code);
void add_binary_command(CLI::App& app, const GlobalOptions& global, int& exit_code);
void add_image_command(CLI::App& app, const GlobalOptions& global, int& exit_code);
void add_inspect_command(CLI::App& app, const GlobalOptions& global, int& exit_code);

struct SourceFlags;

// APP..., --pick and the source options: how every resolving command names
// its programs.
void add_program_options(CLI::App* cmd, std::vector<std::string>& apps,
                         std::vector<std::string>& picks, SourceFlags& source,
                         const std::string& app_help);

// -v / -q on stderr through spdlog; library code never logs.
void setup_logging(const GlobalOptions& global);

}  // namespace dslim::cli
