#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "cli/commands.hpp"

namespace dslim::cli {

namespace {

// "warning: " before a warning, so that it reads apart from an error (what
// was written anyway, against what stopped the run).
class WarningFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    if (msg.level != spdlog::level::warn) return;
    static constexpr std::string_view kWarning = "warning: ";
    dest.append(kWarning.data(), kWarning.data() + kWarning.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<WarningFlag>();
  }
};

void set_pattern(spdlog::logger& logger, const std::string& pattern) {
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<WarningFlag>('*').set_pattern(pattern);
  logger.set_formatter(std::move(formatter));
}

}  // namespace

void setup_logging(const GlobalOptions& global) {
  auto logger = spdlog::stderr_color_st("dslim");
  set_pattern(*logger, "dslim: %*%v");
  if (global.quiet)
    logger->set_level(spdlog::level::err);
  else if (global.verbose >= 2) {
    logger->set_level(spdlog::level::trace);
    set_pattern(*logger, "dslim: [+%o ms] %*%v");  // where the time goes
  } else if (global.verbose == 1)
    logger->set_level(spdlog::level::debug);
  else
    logger->set_level(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

}  // namespace dslim::cli
