// The program an image's config runs, found as the runtime would find it.
#include <string.h>

#include <csignal>

#include "dslim/error.hpp"
#include "dslim/slim.hpp"

namespace dslim::slim {

namespace {

// What runc and Docker put in the environment when the image sets no PATH.
constexpr const char* kRuntimePath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

bool executable_file(const rootfs::RootFs& fs, const std::string& path) {
  const auto found = rootfs::resolve(fs, path);
  return found && found->stat.type == rootfs::FileType::Regular && (found->stat.mode & 0111) != 0;
}

std::string path_of(const std::vector<std::string>& env) {
  std::string value = kRuntimePath;
  for (const auto& e : env)
    if (e.starts_with("PATH=")) value = e.substr(5);
  return value;
}

}  // namespace

EntryCommand find_entry_command(const rootfs::RootFs& fs, const oci::ContainerConfig& config,
                                const std::string& what) {
  std::vector<std::string> argv = config.entrypoint;
  argv.insert(argv.end(), config.cmd.begin(), config.cmd.end());
  const char* field = config.entrypoint.empty() ? "Cmd" : "Entrypoint";
  if (argv.empty() || argv.front().empty())
    throw Error(what + " has no Entrypoint or Cmd: there is no program to slim for");
  const std::string& name = argv.front();
  EntryCommand out;
  if (name.find('/') != std::string::npos) {
    const std::string workdir = config.working_dir.empty() ? "/" : config.working_dir;
    out.program = rootfs::normalize(name.starts_with('/') ? name : workdir + "/" + name);
    if (!executable_file(fs, out.program))
      throw Error(what + ": " + field + " " + name + ": " +
                  (rootfs::resolve(fs, out.program) ? "not an executable file"
                                                    : "no such file in the image"));
  } else {
    const std::string path = path_of(config.env);
    for (size_t at = 0; at <= path.size();) {
      size_t colon = std::min(path.find(':', at), path.size());
      // An empty PATH entry is the working directory, as execvp takes it.
      std::string dir = path.substr(at, colon - at);
      if (dir.empty()) dir = config.working_dir.empty() ? "/" : config.working_dir;
      at = colon + 1;
      if (!dir.starts_with('/')) continue;
      const std::string candidate = rootfs::normalize(dir + "/" + name);
      if (executable_file(fs, candidate)) {
        out.program = candidate;
        break;
      }
    }
    if (out.program.empty())
      throw Error(what + ": " + field + " " + name + ": not found along PATH=" + path);
  }
  for (size_t i = 1; i < argv.size(); ++i) {
    if (!argv[i].starts_with('/') || argv[i] == "/") continue;
    const auto found = rootfs::resolve(fs, argv[i]);
    if (found && found->stat.type == rootfs::FileType::Regular)
      out.files.push_back(rootfs::normalize(argv[i]));
  }
  return out;
}

int parse_signal(const std::string& name, const std::string& what) {
  std::string text = name;
  for (auto& c : text) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
  if (text.starts_with("SIG")) text = text.substr(3);
  auto number = [](const std::string& digits) -> int {
    if (digits.empty() || digits.size() > 3 ||
        digits.find_first_not_of("0123456789") != std::string::npos)
      return -1;
    return std::stoi(digits);
  };
  int sig = number(text);
  if (sig < 0) {
    if (text.starts_with("RTMIN+")) {
      const int n = number(text.substr(6));
      sig = n < 0 ? -1 : SIGRTMIN + n;
    } else if (text.starts_with("RTMAX-")) {
      const int n = number(text.substr(6));
      sig = n < 0 ? -1 : SIGRTMAX - n;
    } else if (text == "RTMIN" || text == "RTMAX") {
      sig = text == "RTMIN" ? SIGRTMIN : SIGRTMAX;
    } else {
      for (int s = 1; s < SIGRTMIN; ++s) {
        const char* abbrev = sigabbrev_np(s);
        if (abbrev && text == abbrev) sig = s;
      }
    }
  }
  if (sig < 1 || sig > SIGRTMAX)
    throw Error(what + " " + name + ": not a signal (e.g. SIGTERM, SIGQUIT, 15)");
  return sig;
}

}  // namespace dslim::slim
