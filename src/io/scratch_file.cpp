#include "dslim/scratch_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "dslim/error.hpp"

namespace dslim {

int anonymous_file(const std::string& dir, std::string* named, const std::string& where) {
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);
  if (fd < 0) {
    std::string tmpl = dir + "/.tmp-XXXXXX";
    fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
    if (fd >= 0) {
      if (named)
        *named = tmpl;
      else
        ::unlink(tmpl.c_str());
    }
  }
  if (fd < 0)
    throw Error(where + ": cannot create a temporary file in " + dir + ": " + std::strerror(errno));
  return fd;
}

int scratch_file(const std::string& what) {
  const char* env = std::getenv("TMPDIR");
  const bool chosen = env && *env;
  const std::string dir = chosen ? env : "/tmp";
  try {
    return anonymous_file(dir, nullptr, what);
  } catch (const Error&) {
    if (chosen) throw;  // the user's choice: not second-guessed
    int fd = ::memfd_create("dslim-scratch", MFD_CLOEXEC);
    if (fd < 0) throw;
    return fd;
  }
}

}  // namespace dslim
