#pragma once
// What a program needs at run time that no ELF header names, inferred from
// what the code imports (DESIGN.md §8): getpwuid -> passwd, getaddrinfo ->
// nss, a TLS library -> certs, iconv_open and the charsets it names -> their
// gconv modules, pthread_cancel -> libgcc_s, a Go program's packages, the zone
// TZ names. Each need carries the reason a report shows.
#include <set>
#include <string>
#include <vector>

#include "dslim/resolver.hpp"
#include "dslim/rootfs.hpp"
#include "dslim/selection.hpp"
#include "dslim/symbol_check.hpp"

namespace dslim::resolve {

// The kinds of inference, by the names --without takes.
enum class NeedKind { Passwd, Nss, Certs, Tzdata, Gconv, LibgccS, Tz };
const char* to_string(NeedKind kind);
// "passwd,nss" -> kinds; "all" -> every kind. Throws dslim::Error (Usage)
// naming an unknown one.
std::set<NeedKind> parse_need_kinds(const std::vector<std::string>& names);

struct InferredNeed {
  NeedKind kind;
  std::string what;    // "certs", "libgcc_s.so.1", "gconv ISO-8859-15", "zone Europe/Paris"
  std::string reason;  // "/usr/lib/x86_64-linux-gnu/libcurl.so.4 links libssl.so.3"
};

struct Inference {
  std::vector<InferredNeed> needs;     // each `what` once, first reason kept
  std::vector<Preset> presets;         // the presets those needs add
  std::vector<std::string> libraries;  // loaded by name at run time (libgcc_s.so.1)
  std::vector<std::string> paths;      // files of the source to take (modules, a zone)
  std::vector<std::string> warnings;   // dlopen hints; needs the source cannot meet
  std::vector<std::string> notes;      // what was left to the user (-v shows them)
};

struct InferenceOptions {
  std::set<NeedKind> without;    // kinds not to infer
  std::vector<std::string> env;  // the image's Env, K=V (TZ)
};

// Infers from the objects of `graph` at indices [first, end): callers run
// it again over the nodes a previous round's needs added. `seen` carries
// what earlier rounds inferred, so each need is reported once.
class NeedInferrer {
 public:
  NeedInferrer(const rootfs::RootFs& fs, InferenceOptions options);
  Inference infer(const Graph& graph, const GraphSymbols& symbols, size_t first);

 private:
  const rootfs::RootFs& fs_;
  InferenceOptions options_;
  std::set<std::string> seen_;
  bool tz_done_ = false;
};

}  // namespace dslim::resolve
