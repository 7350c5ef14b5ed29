#include "cli/commands.hpp"
#include "cli/source.hpp"

namespace dslim::cli {

void add_program_options(CLI::App* cmd, std::vector<std::string>& apps,
                         std::vector<std::string>& picks, SourceFlags& source,
                         const std::string& app_help) {
  cmd->add_option("APP", apps, app_help);
  cmd->add_option("--pick", picks, "A program that lives inside the source, by its path there")
      ->type_name("PATH");
  add_source_options(cmd, source);
  add_resolve_limit_options(cmd, source);
}

}  // namespace dslim::cli
