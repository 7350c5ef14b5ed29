#include "cli/commands.hpp"

namespace dslim::cli {

void add_program_options(CLI::App* cmd, std::vector<std::string>& apps,
                         std::vector<std::string>& picks, std::string& from,
                         const std::string& app_help) {
  cmd->add_option("APP", apps, app_help);
  cmd->add_option("--pick", picks, "A program that lives inside the source, by its path there")
      ->type_name("PATH");
  cmd->add_option("--from", from,
                  "Where libraries come from: dir:ROOT (default dir:/), oci:DIR[:TAG], "
                  "oci-archive:FILE[:TAG], docker-archive:FILE[:NAME:TAG]")
      ->type_name("SRC");
}

}  // namespace dslim::cli
