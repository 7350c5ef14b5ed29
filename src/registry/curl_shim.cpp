// libcurl, loaded on first use. Linking it puts ~26 more shared libraries
// (nghttp2, ssh2, ldap, gssapi, ...) and ~300 page faults (~6 ms or more on
// this machine class) on the start of every command, though only the
// registry commands talk to the network. So dslim does not link libcurl:
// these definitions of the libcurl functions it calls dlopen libcurl.so.4 the
// first time one is called and forward to it. Code calls libcurl as usual
// (#include <curl/curl.h>); a libcurl function not defined here fails to
// link: add it to kNames and define it below in the same way.
#define CURL_DISABLE_TYPECHECK  // its macros would rename the definitions below
#include <curl/curl.h>

#include <array>
#include <cstdarg>
#include <span>
#include <string>

#include "dslim/error.hpp"
#include "dslim/shared_library.hpp"

namespace {

enum Fn {
  kGlobalInit,
  kVersion,
  kEasyInit,
  kEasySetopt,
  kEasyPerform,
  kEasyGetinfo,
  kEasyCleanup,
  kEasyReset,
  kEasyStrerror,
  kEasyEscape,
  kFree,
  kSlistAppend,
  kSlistFreeAll,
  kUrl,
  kUrlCleanup,
  kUrlGet,
  kUrlSet,
  kCount
};
constexpr std::array<const char*, kCount> kNames = {
    "curl_global_init",    "curl_version",      "curl_easy_init",    "curl_easy_setopt",
    "curl_easy_perform",   "curl_easy_getinfo", "curl_easy_cleanup", "curl_easy_reset",
    "curl_easy_strerror",  "curl_easy_escape",  "curl_free",         "curl_slist_append",
    "curl_slist_free_all", "curl_url",          "curl_url_cleanup",  "curl_url_get",
    "curl_url_set"};

// libcurl asks for this before any other call, once, from one thread:
// LazyLibrary runs it under the guard of its loading.
void global_init(std::span<void* const> fns) {
  using GlobalInit = CURLcode (*)(long);
  const CURLcode rc = reinterpret_cast<GlobalInit>(fns[kGlobalInit])(CURL_GLOBAL_DEFAULT);
  if (rc != CURLE_OK) {
    throw dslim::Error("libcurl failed to initialise (code " + std::to_string(rc) + ")",
                       dslim::ErrorKind::Network);
  }
}

constinit const dslim::LazyLibrary kCurl("libcurl.so.4", kNames,
                                         "install libcurl4 to use registries",
                                         dslim::ErrorKind::Network, global_init);

}  // namespace

extern "C" {

CURLcode curl_global_init(long) {
  kCurl.functions();  // loading initialises, once
  return CURLE_OK;
}

char* curl_version() {
  return kCurl.get(kVersion, curl_version)();
}

CURL* curl_easy_init() {
  return kCurl.get(kEasyInit, curl_easy_init)();
}

// curl.h fixes these signatures: the last named parameter is an enum, which
// clang flags for va_start (promoted to int, as libcurl itself reads it).
#ifdef __clang__
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wvarargs"
#endif
CURLcode curl_easy_setopt(CURL* curl, CURLoption option, ...) {
  // The argument's type follows from the option's range (curl.h CURLOPTTYPE_*),
  // as libcurl itself reads it.
  va_list ap;
  va_start(ap, option);
  auto* setopt = kCurl.get(kEasySetopt, curl_easy_setopt);
  CURLcode rc = CURLE_UNKNOWN_OPTION;
  if (option < CURLOPTTYPE_OBJECTPOINT) {
    rc = setopt(curl, option, va_arg(ap, long));
  } else if (option < CURLOPTTYPE_FUNCTIONPOINT) {
    rc = setopt(curl, option, va_arg(ap, void*));
  } else if (option < CURLOPTTYPE_OFF_T) {
    using AnyFunction = void (*)();
    rc = setopt(curl, option, va_arg(ap, AnyFunction));
  } else if (option < CURLOPTTYPE_BLOB) {
    rc = setopt(curl, option, va_arg(ap, curl_off_t));
  } else if (option < CURLOPTTYPE_BLOB + 10000) {
    rc = setopt(curl, option, va_arg(ap, struct curl_blob*));
  }
  va_end(ap);
  return rc;
}

CURLcode curl_easy_perform(CURL* curl) {
  return kCurl.get(kEasyPerform, curl_easy_perform)(curl);
}

CURLcode curl_easy_getinfo(CURL* curl, CURLINFO info, ...) {
  // Every CURLINFO_* takes one pointer to where the answer goes.
  va_list ap;
  va_start(ap, info);
  void* out = va_arg(ap, void*);
  va_end(ap);
  return kCurl.get(kEasyGetinfo, curl_easy_getinfo)(curl, info, out);
}
#ifdef __clang__
#pragma clang diagnostic pop
#endif

void curl_easy_cleanup(CURL* curl) {
  kCurl.get(kEasyCleanup, curl_easy_cleanup)(curl);
}

void curl_easy_reset(CURL* curl) {
  kCurl.get(kEasyReset, curl_easy_reset)(curl);
}

const char* curl_easy_strerror(CURLcode code) {
  return kCurl.get(kEasyStrerror, curl_easy_strerror)(code);
}

char* curl_easy_escape(CURL* curl, const char* string, int length) {
  return kCurl.get(kEasyEscape, curl_easy_escape)(curl, string, length);
}

void curl_free(void* p) {
  kCurl.get(kFree, curl_free)(p);
}

struct curl_slist* curl_slist_append(struct curl_slist* list, const char* string) {
  return kCurl.get(kSlistAppend, curl_slist_append)(list, string);
}

void curl_slist_free_all(struct curl_slist* list) {
  kCurl.get(kSlistFreeAll, curl_slist_free_all)(list);
}

CURLU* curl_url() {
  return kCurl.get(kUrl, curl_url)();
}

void curl_url_cleanup(CURLU* url) {
  kCurl.get(kUrlCleanup, curl_url_cleanup)(url);
}

CURLUcode curl_url_get(CURLU* url, CURLUPart what, char** part, unsigned int flags) {
  return kCurl.get(kUrlGet, curl_url_get)(url, what, part, flags);
}

CURLUcode curl_url_set(CURLU* url, CURLUPart what, const char* part, unsigned int flags) {
  return kCurl.get(kUrlSet, curl_url_set)(url, what, part, flags);
}

}  // extern "C"
