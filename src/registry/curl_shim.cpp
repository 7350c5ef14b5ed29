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
#include <string>
#include <vector>

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

using Functions = std::vector<void*>;

Functions load() {
  Functions fns = dslim::load_functions(
      "libcurl.so.4", kNames, "install libcurl4 to use registries", dslim::ErrorKind::Network);
  // libcurl asks for this before any other call, once, from one thread: the
  // static below runs it under the guard of its initialisation.
  using GlobalInit = CURLcode (*)(long);
  const CURLcode rc = reinterpret_cast<GlobalInit>(fns[kGlobalInit])(CURL_GLOBAL_DEFAULT);
  if (rc != CURLE_OK) {
    throw dslim::Error("libcurl failed to initialise (code " + std::to_string(rc) + ")",
                       dslim::ErrorKind::Network);
  }
  return fns;
}

const Functions& functions() {
  static const Functions fns = load();  // a throw leaves it to the next call
  return fns;
}

// The function `f`, typed as its declaration in curl.h.
template <typename Decl>
Decl* fn(Fn f, Decl&) {
  return reinterpret_cast<Decl*>(functions()[f]);
}

}  // namespace

extern "C" {

CURLcode curl_global_init(long) {
  functions();  // loading initialises, once
  return CURLE_OK;
}

char* curl_version() {
  return fn(kVersion, curl_version)();
}

CURL* curl_easy_init() {
  return fn(kEasyInit, curl_easy_init)();
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
  auto* setopt = fn(kEasySetopt, curl_easy_setopt);
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
  return fn(kEasyPerform, curl_easy_perform)(curl);
}

CURLcode curl_easy_getinfo(CURL* curl, CURLINFO info, ...) {
  // Every CURLINFO_* takes one pointer to where the answer goes.
  va_list ap;
  va_start(ap, info);
  void* out = va_arg(ap, void*);
  va_end(ap);
  return fn(kEasyGetinfo, curl_easy_getinfo)(curl, info, out);
}
#ifdef __clang__
#pragma clang diagnostic pop
#endif

void curl_easy_cleanup(CURL* curl) {
  fn(kEasyCleanup, curl_easy_cleanup)(curl);
}

void curl_easy_reset(CURL* curl) {
  fn(kEasyReset, curl_easy_reset)(curl);
}

const char* curl_easy_strerror(CURLcode code) {
  return fn(kEasyStrerror, curl_easy_strerror)(code);
}

char* curl_easy_escape(CURL* curl, const char* string, int length) {
  return fn(kEasyEscape, curl_easy_escape)(curl, string, length);
}

void curl_free(void* p) {
  fn(kFree, curl_free)(p);
}

struct curl_slist* curl_slist_append(struct curl_slist* list, const char* string) {
  return fn(kSlistAppend, curl_slist_append)(list, string);
}

void curl_slist_free_all(struct curl_slist* list) {
  fn(kSlistFreeAll, curl_slist_free_all)(list);
}

CURLU* curl_url() {
  return fn(kUrl, curl_url)();
}

void curl_url_cleanup(CURLU* url) {
  fn(kUrlCleanup, curl_url_cleanup)(url);
}

CURLUcode curl_url_get(CURLU* url, CURLUPart what, char** part, unsigned int flags) {
  return fn(kUrlGet, curl_url_get)(url, what, part, flags);
}

CURLUcode curl_url_set(CURLU* url, CURLUPart what, const char* part, unsigned int flags) {
  return fn(kUrlSet, curl_url_set)(url, what, part, flags);
}

}  // extern "C"
