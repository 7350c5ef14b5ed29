#pragma once
// A unique temporary directory for one test, removed when it goes out of scope.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace dslim::test {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "dslim-test-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// Runs a shell command and returns its stdout; throws if it exits non-zero.
inline std::string run(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) throw std::runtime_error("popen failed: " + command);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  int status = pclose(pipe);
  if (status != 0) throw std::runtime_error("command failed: " + command + "\n" + out);
  return out;
}

// A tool the tests need: under CI a missing tool throws, failing the test;
// elsewhere it returns false and the caller leaves that check out.
inline bool have_tool(const std::string& name) {
  bool found = std::system(("command -v " + name + " >/dev/null 2>&1").c_str()) == 0;
  if (!found && std::getenv("CI")) {
    throw std::runtime_error(name + " is required under CI; run scripts/bootstrap");
  }
  return found;
}

}  // namespace dslim::test
