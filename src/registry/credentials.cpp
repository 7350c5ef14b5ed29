// Finding registry credentials the way docker, podman and skopeo do.
#include <fcntl.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <vector>

#include "base64.hpp"
#include "dslim/error.hpp"
#include "dslim/registry_credentials.hpp"

extern char** environ;

namespace dslim::registry {
namespace {

constexpr const char* kDockerHub = "docker.io";

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// The files to look in, in order (containers-auth.json(5)).
std::vector<std::string> auth_files() {
  if (std::string f = env("REGISTRY_AUTH_FILE"); !f.empty()) return {f};
  std::vector<std::string> files;
  std::string home = env("HOME");
  if (std::string run = env("XDG_RUNTIME_DIR"); !run.empty())
    files.push_back(run + "/containers/auth.json");
  std::string config = env("XDG_CONFIG_HOME");
  if (config.empty() && !home.empty()) config = home + "/.config";
  if (!config.empty()) files.push_back(config + "/containers/auth.json");
  std::string docker = env("DOCKER_CONFIG");
  if (docker.empty() && !home.empty()) docker = home + "/.docker";
  if (!docker.empty()) files.push_back(docker + "/config.json");
  return files;
}

// "https://index.docker.io/v1/" -> "docker.io", "http://host:5000/x" -> "host:5000".
std::string key_host(std::string key) {
  for (const char* scheme : {"https://", "http://"})
    if (key.rfind(scheme, 0) == 0) key = key.substr(std::string(scheme).size());
  key = key.substr(0, key.find('/'));
  if (key == "index.docker.io" || key == "registry-1.docker.io") key = kDockerHub;
  return key;
}

struct HelperOutput {
  int status = -1;
  std::string output;  // stdout and stderr together
};

// Runs `docker-credential-NAME get` with the server on stdin. stdin is a
// memfd rather than a pipe, so a helper that never reads it cannot block us
// or raise SIGPIPE.
HelperOutput run_helper(const std::string& program, const std::string& server) {
  int in = memfd_create("dslim-credential-server", MFD_CLOEXEC);
  if (in < 0 || write(in, server.data(), server.size()) != static_cast<ssize_t>(server.size()) ||
      lseek(in, 0, SEEK_SET) != 0) {
    if (in >= 0) close(in);
    throw Error("cannot run " + program + ": " + std::strerror(errno));
  }
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(in);
    throw Error("cannot run " + program + ": " + std::strerror(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in, 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, out[1], 2);
  std::string get = "get";
  char* argv[] = {const_cast<char*>(program.c_str()), get.data(), nullptr};
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  close(in);
  close(out[1]);
  if (rc != 0) {
    close(out[0]);
    throw Error("credential helper " + program + " is not on PATH (" + std::strerror(rc) + ")");
  }
  HelperOutput result;
  char buf[4096];
  ssize_t n;
  while ((n = read(out[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0) result.output.append(buf, static_cast<size_t>(n));
  close(out[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::optional<Credentials> from_helper(const std::string& helper, const std::string& registry,
                                       const std::string& file) {
  std::string program = "docker-credential-" + helper;
  HelperOutput r = run_helper(program, credentials_key(registry));
  if (r.status != 0) {
    // The helpers' own wording for "no entry" (docker-credential-helpers).
    if (r.output.find("credentials not found") != std::string::npos) return std::nullopt;
    std::string first = r.output.substr(0, r.output.find('\n'));
    throw Error(program + " get (from " + file + ") failed for " + registry +
                (first.empty() ? "" : ": " + first));
  }
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(r.output);
  } catch (const nlohmann::json::exception&) {
    throw Error(program + " get (from " + file + ") printed no JSON for " + registry);
  }
  Credentials c;
  std::string user = j.value("Username", "");
  std::string secret = j.value("Secret", "");
  if (user == "<token>") {
    c.identity_token = secret;  // docker's spelling for an identity token
  } else {
    c.username = user;
    c.password = secret;
  }
  if (c.empty()) return std::nullopt;
  c.source = "credentials from " + program + " (" + file + ") for " + registry;
  return c;
}

std::optional<Credentials> from_auths_entry(const nlohmann::json& entry,
                                            const std::string& registry, const std::string& file) {
  Credentials c;
  if (auto it = entry.find("auth"); it != entry.end() && it->is_string()) {
    auto decoded = base64_decode(it->get<std::string>());
    size_t colon = decoded ? decoded->find(':') : std::string::npos;
    if (!decoded || (!decoded->empty() && colon == std::string::npos))
      throw Error(file + ": the auth entry for " + registry + " is not base64 of USER:PASSWORD");
    if (colon != std::string::npos) {
      c.username = decoded->substr(0, colon);
      c.password = decoded->substr(colon + 1);
    }
  }
  if (auto it = entry.find("identitytoken"); it != entry.end() && it->is_string())
    c.identity_token = it->get<std::string>();
  if (c.empty()) return std::nullopt;  // docker login with a credsStore leaves {} here
  c.source = "credentials from " + file + " for " + registry;
  return c;
}

std::optional<Credentials> from_file(const std::string& file, const std::string& registry) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) return std::nullopt;
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) throw Error("cannot read " + file);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::exception&) {
    throw Error(file + " is not valid JSON");
  }
  if (!j.is_object()) throw Error(file + " is not a JSON object");
  if (auto helpers = j.find("credHelpers"); helpers != j.end() && helpers->is_object()) {
    for (const auto& [key, helper] : helpers->items())
      if (key_host(key) == registry && helper.is_string())
        return from_helper(helper.get<std::string>(), registry, file);
  }
  if (auto auths = j.find("auths"); auths != j.end() && auths->is_object()) {
    for (const auto& [key, entry] : auths->items())
      if (key_host(key) == registry && entry.is_object())
        if (auto c = from_auths_entry(entry, registry, file)) return c;
  }
  if (auto store = j.find("credsStore"); store != j.end() && store->is_string())
    return from_helper(store->get<std::string>(), registry, file);
  return std::nullopt;
}

}  // namespace

std::string registry_api_host(const std::string& registry) {
  return registry == kDockerHub ? "registry-1.docker.io" : registry;
}

std::string credentials_key(const std::string& registry) {
  return registry == kDockerHub ? "https://index.docker.io/v1/" : registry;
}

Credentials find_credentials(const std::string& registry, const std::string& creds_flag) {
  if (!creds_flag.empty()) {
    size_t colon = creds_flag.find(':');
    if (colon == 0 || colon == std::string::npos)
      throw Error("--creds needs USER:PASSWORD", ErrorKind::Usage);
    Credentials c;
    c.username = creds_flag.substr(0, colon);
    c.password = creds_flag.substr(colon + 1);
    c.source = "credentials from --creds for " + registry;
    return c;
  }
  std::vector<std::string> files = auth_files();
  for (const auto& file : files)
    if (auto c = from_file(file, registry)) return *c;
  Credentials none;
  std::string searched;
  for (const auto& f : files) searched += (searched.empty() ? "" : ", ") + f;
  none.source = "no credentials (none for " + registry + " in " +
                (searched.empty() ? "--creds" : searched) + ")";
  return none;
}

}  // namespace dslim::registry
