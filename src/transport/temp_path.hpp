#pragma once
// Temporary files and directories next to their final path, renamed into
// place on commit() and removed by the destructor otherwise — how every sink
// keeps "no partial output" (DESIGN.md §5).
#include <string>
#include <string_view>

namespace dslim {

class TempFile {
 public:
  // Creates "<target>.tmp-XXXXXX" (mode 0666 & ~umask). Throws dslim::Error.
  explicit TempFile(std::string target);
  ~TempFile();
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  const std::string& target() const { return target_; }
  void write(std::string_view bytes);
  // Close and rename onto the target.
  void commit();

 private:
  std::string target_;
  std::string path_;
  int fd_ = -1;
  bool committed_ = false;
};

class TempDir {
 public:
  // Creates "<target>.tmp-XXXXXX" (mode 0777 & ~umask). Throws dslim::Error.
  explicit TempDir(std::string target);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // Renames onto the target, which must be absent or an empty directory.
  void commit();
  // commit(), but false (and nothing renamed) when the target has become a
  // non-empty directory meanwhile.
  bool try_commit();

 private:
  std::string target_;
  std::string path_;
  bool committed_ = false;
};

// Writes `bytes` to `target` through a TempFile.
void write_file_atomic(const std::string& target, std::string_view bytes);

// "<path>: <strerror(errno)>" as a dslim::Error.
[[noreturn]] void throw_errno(const std::string& what, const std::string& path);

}  // namespace dslim
