#include "cli/transfer_progress.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>

#include "cli/size.hpp"

namespace dslim::cli {
namespace {

using Clock = std::chrono::steady_clock;

// Blobs move on several threads at once.
class Progress {
 public:
  void update(const std::string& digest, uint64_t done, uint64_t total) {
    std::lock_guard lock(mutex_);
    auto now = Clock::now();
    auto [it, fresh] = started_.try_emplace(digest, now);
    double secs = std::chrono::duration<double>(now - it->second).count();
    std::string name = digest.substr(0, 19);  // "sha256:" + 12 hex
    std::string rate = secs > 0 ? format_size(static_cast<uint64_t>(done / secs)) + "/s" : "";
    if (done >= total) {
      if (live_) std::fputs("\r\033[K", stderr);
      spdlog::info("blob {} {} in {:.1f} s {}", name, format_size(total), secs,
                   rate.empty() ? "" : "(" + rate + ")");
      started_.erase(it);
      return;
    }
    if (!live_ || now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    std::fprintf(stderr, "\r\033[Kdslim: blob %s %s / %s %s", name.c_str(),
                 format_size(done).c_str(), format_size(total).c_str(), rate.c_str());
  }

 private:
  std::mutex mutex_;
  std::map<std::string, Clock::time_point> started_;
  Clock::time_point last_{};
  const bool live_ =
      isatty(STDERR_FILENO) && !std::getenv("CI") && spdlog::should_log(spdlog::level::info);
};

}  // namespace

void add_registry_options(CLI::App* cmd, RegistryFlags& flags) {
  cmd->add_option("--tls-verify", flags.tls_verify,
                  "Check registries' TLS certificates (--tls-verify=false also allows plain http)")
      ->type_name("BOOL")
      ->default_str("true");
  cmd->add_option("--cert-dir", flags.cert_dir,
                  "Extra CA certificates (*.crt) and a client certificate (*.cert, *.key) "
                  "for registries")
      ->type_name("DIR");
  cmd->add_option("--creds", flags.creds,
                  "Registry credentials (default: ~/.docker/config.json, $REGISTRY_AUTH_FILE)")
      ->type_name("USER:PASS");
}

registry::RegistryOptions registry_options(const RegistryFlags& flags) {
  registry::RegistryOptions options;
  options.tls_verify = flags.tls_verify;
  options.cert_dir = flags.cert_dir;
  options.creds = flags.creds;
  options.log = [](const std::string& line) {
    static std::mutex mutex;
    std::lock_guard lock(mutex);
    spdlog::debug("{}", line);
  };
  auto progress = std::make_shared<Progress>();
  options.progress = [progress](const std::string& digest, uint64_t done, uint64_t total) {
    progress->update(digest, done, total);
  };
  return options;
}

}  // namespace dslim::cli
