#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "cli/commands.hpp"

namespace dslim::cli {

void setup_logging(const GlobalOptions& global) {
  auto logger = spdlog::stderr_color_st("dslim");
  logger->set_pattern("dslim: %v");
  if (global.quiet)
    logger->set_level(spdlog::level::err);
  else if (global.verbose >= 2) {
    logger->set_level(spdlog::level::trace);
    logger->set_pattern("dslim: [+%o ms] %v");  // where the time goes
  } else if (global.verbose == 1)
    logger->set_level(spdlog::level::debug);
  else
    logger->set_level(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

}  // namespace dslim::cli
