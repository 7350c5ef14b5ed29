#pragma once
// A real registry (Debian's docker-registry) on 127.0.0.1 for one test, on a
// free port with its own storage, stopped when it goes out of scope. Also a
// throwaway CA and server certificate for TLS tests, and a helper to run any
// local test server (e.g. a Python fake) that reports the port it bound.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/temp_dir.hpp"

namespace dslim::test {

// A port nothing listens on right now (the kernel's pick, released again).
inline int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error("cannot find a free port");
  close(fd);
  return ntohs(a.sin_port);
}

inline bool port_open(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

// A child process with stdout and stderr in `log`, killed on destruction.
// Its environment is only PATH: a REGISTRY_* variable set by a test would
// otherwise reconfigure docker-registry.
class ChildProcess {
 public:
  ChildProcess() = default;
  ChildProcess(const std::vector<std::string>& argv, const std::string& log) { start(argv, log); }
  ~ChildProcess() { kill(); }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  void start(const std::vector<std::string>& argv, const std::string& log) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::string path = std::string("PATH=") + (getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
    char* env[] = {path.data(), nullptr};
    int rc = posix_spawnp(&pid_, args[0], &fa, nullptr, args.data(), env);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) throw std::runtime_error("cannot start " + argv[0]);
  }
  // SIGKILL: the way a crash or an OOM kill looks to clients.
  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  bool running() const { return pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == 0; }

 private:
  pid_t pid_ = -1;
};

inline std::string read_file_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Waits until `port` accepts connections; throws with the log when it never does.
inline void wait_for_port(int port, const ChildProcess& child, const std::string& log) {
  for (int i = 0; i < 200; ++i) {
    if (port_open(port)) return;
    if (!child.running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw std::runtime_error("server on port " + std::to_string(port) + " did not start:\n" +
                           read_file_text(log));
}

struct RegistryServerOptions {
  std::string htpasswd;  // a file from `htpasswd -Bbn USER PASS`: Basic auth
  std::string tls_cert;  // PEM certificate and key: https
  std::string tls_key;
};

class RegistryServer {
 public:
  explicit RegistryServer(RegistryServerOptions options = {}) : port_(free_port()) {
    if (!have_tool("docker-registry")) throw std::runtime_error("docker-registry is not installed");
    std::ofstream c(config());
    c << "version: 0.1\n"
      << "log:\n  level: error\n  accesslog:\n    disabled: true\n"
      << "storage:\n  filesystem:\n    rootdirectory: " << storage().string() << "\n"
      << "  delete:\n    enabled: true\n"
      << "http:\n  addr: 127.0.0.1:" << port_ << "\n  secret: dslim-test\n";
    if (!options.tls_cert.empty())
      c << "  tls:\n    certificate: " << options.tls_cert << "\n    key: " << options.tls_key
        << "\n";
    if (!options.htpasswd.empty())
      c << "auth:\n  htpasswd:\n    realm: dslim-test\n    path: " << options.htpasswd << "\n";
    c.close();
    start();
  }

  int port() const { return port_; }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  std::filesystem::path storage() const { return dir_.path() / "storage"; }
  std::string log() const { return read_file_text(dir_.path() / "registry.log"); }
  // Where the registry keeps a blob's bytes (to corrupt them in a test).
  std::filesystem::path blob_data(const std::string& digest) const {
    std::string hex = digest.substr(7);
    return storage() / "docker/registry/v2/blobs/sha256" / hex.substr(0, 2) / hex / "data";
  }

  void start() {
    std::string log = (dir_.path() / "registry.log").string();
    process_.start({"docker-registry", "serve", config().string()}, log);
    wait_for_port(port_, process_, log);
  }
  void kill() { process_.kill(); }

 private:
  std::filesystem::path config() const { return dir_.path() / "config.yml"; }
  TempDir dir_;
  int port_;
  ChildProcess process_;
};

// A test server tests/support/SCRIPT (a Python fake) that binds a free port
// of 127.0.0.1 and writes it to the file named by its first argument.
class ScriptServer {
 public:
  explicit ScriptServer(const std::string& script, const std::vector<std::string>& args = {}) {
    const std::string port_file = (dir_.path() / "port").string();
    const std::string log = (dir_.path() / "log").string();
    std::vector<std::string> argv = {"python3", DSLIM_SOURCE_DIR "/tests/support/" + script,
                                     port_file};
    argv.insert(argv.end(), args.begin(), args.end());
    process_.start(argv, log);
    for (int i = 0; i < 200 && !std::filesystem::exists(port_file); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    port_ = std::stoi(read_file_text(port_file));
    wait_for_port(port_, process_, log);
  }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  // The server's GET /stats.
  std::string stats() const { return run("curl -sf http://" + host() + "/stats"); }

 private:
  TempDir dir_;
  ChildProcess process_;
  int port_ = 0;
};

// A CA and a server certificate it signed for 127.0.0.1 and localhost, made
// with the openssl CLI: ca.crt, server.crt, server.key in `dir`.
struct TestTls {
  std::string ca_cert, server_cert, server_key;
};
inline TestTls make_test_tls(const std::filesystem::path& dir) {
  std::string d = dir.string();
  run("cd '" + d +
      "' && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=dslim-test-ca "
      "-keyout ca.key -out ca.crt 2>&1 && "
      "openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server.key "
      "-out server.csr 2>&1 && "
      "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext && "
      "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 "
      "-extfile san.ext -out server.crt 2>&1");
  return {d + "/ca.crt", d + "/server.crt", d + "/server.key"};
}

}  // namespace dslim::test
