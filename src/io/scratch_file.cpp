#include "dslim/scratch_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "dslim/error.hpp"

namespace dslim {

int scratch_file(const std::string& what) {
  const char* env = std::getenv("TMPDIR");
  const bool chosen = env && *env;
  const std::string dir = chosen ? env : "/tmp";
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) {
    // A file system without O_TMPFILE: a named file, unlinked at once.
    std::string tmpl = dir + "/.dslim-tmp-XXXXXX";
    fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
    if (fd >= 0) ::unlink(tmpl.c_str());
  }
  if (fd < 0 && !chosen) fd = ::memfd_create("dslim-scratch", MFD_CLOEXEC);
  if (fd < 0)
    throw Error("cannot create a temporary file for " + what + " in " + dir + ": " +
                std::strerror(errno) + (chosen ? " ($TMPDIR)" : ""));
  return fd;
}

}  // namespace dslim
