// `dslim --version`. In the developer build libcurl, ISA-L and LIEF are
// loaded on first use (CMakeLists.txt): --version names them without
// loading them, as loading is what the start of every command must not pay.
// The static release build (DSLIM_STATIC) has them linked in and asks them.
#include "cli/version.hpp"

#include <LIEF/version.h>
#include <archive.h>
#include <curl/curl.h>
#include <gnu/libc-version.h>
#include <isa-l.h>
#include <libdeflate.h>
#include <openssl/crypto.h>
#include <zstd.h>

#include "dslim/version.hpp"

#ifndef DSLIM_GIT_COMMIT
#define DSLIM_GIT_COMMIT "unknown"
#endif

namespace dslim::cli {

std::string version_text() {
  const std::string isal = std::to_string(ISAL_MAJOR_VERSION) + "." +
                           std::to_string(ISAL_MINOR_VERSION) + "." +
                           std::to_string(ISAL_PATCH_VERSION);
  std::string lief = LIEF_VERSION;
  if (lief.ends_with('-')) lief.pop_back();  // Debian's 0.9 says "0.9.0-"
  std::string out = std::string("dslim ") + kVersion + " (commit " + DSLIM_GIT_COMMIT + ", ";
#if DSLIM_STATIC
  out += "static, glibc " + std::string(gnu_get_libc_version()) + ")\n";
  out += std::string(curl_version()) + "\n";
  out += "LIEF " + lief + "\n";
  out += "ISA-L " + isal + "\n";
#else
  out += "glibc " + std::string(gnu_get_libc_version()) + ")\n";
  out += "libcurl " LIBCURL_VERSION " headers (libcurl.so.4, loaded on first use)\n";
  out += "LIEF " + lief + " (dslim-lief.so, loaded on first use)\n";
  out += "ISA-L " + isal + " headers (libisal.so.2, loaded on first use)\n";
#endif
  out += std::string(archive_version_details()) + "\n";
  out += std::string(OpenSSL_version(OPENSSL_VERSION)) + "\n";
  out += std::string("zstd ") + ZSTD_versionString() + "\n";
  out += "libdeflate " LIBDEFLATE_VERSION_STRING;
  return out;
}

}  // namespace dslim::cli
