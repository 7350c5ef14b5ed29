#pragma once
// The plan of a slim image: what goes into it (DESIGN.md §2, `slim` stage).
// The programs placed, their closures by the loader's rules, the files
// asked for (--add, --include, presets), the needs inferred from what the
// code imports, each ELF file among them resolved as a program is, and the
// symbol check over the whole. The layer writer then takes `paths` from the
// overlay.
#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "dslim/inferred_needs.hpp"
#include "dslim/probe.hpp"
#include "dslim/resolver.hpp"
#include "dslim/rootfs.hpp"
#include "dslim/symbol_check.hpp"

namespace dslim::slim {

// One --probe: the image's entrypoint run in a sandbox over the source.
struct ProbeRequest {
  std::vector<std::string> args;  // after the entrypoint (shell words of --probe)
  // --probe-http: the program serves on this port of the sandbox's loopback;
  // each path is fetched once it accepts, then the program is stopped.
  uint16_t http_port = 0;
  std::vector<std::string> http_paths;
};

// What one probe did and brought.
struct ProbeReport {
  std::vector<std::string> args;
  int exit_code = -1;  // when it exited
  int signal = 0;      // when a signal ended it
  bool timed_out = false;
  bool stopped = false;  // by dslim, once --probe-http's requests were answered
  double seconds = 0;
  double setup_seconds = 0;  // the sandbox's set-up, before the program ran
  // An image source's entries (files and directories) written out for the
  // sandbox, lazily as the program touched them, and the time that took
  // (the first probe's counts the image's directories, written before it).
  uint64_t written_entries = 0, written_bytes = 0;
  double write_seconds = 0;
  std::vector<std::string> added;      // paths of the source it brought into the image
  std::vector<std::string> refused;    // calls the sandbox refused (EPERM), "pid N call path"
  std::vector<probe::HttpFetch> http;  // --probe-http's GETs, in order
  // For -v: each added path with the first process and call that touched it.
  std::vector<std::pair<std::string, std::string>> touched_by;
};

struct SlimRequest {
  std::vector<std::string> apps;      // programs (or #! scripts) on this machine
  std::vector<std::string> picks;     // programs that live in the source
  std::string dest;                   // --dest: where the APP(s) go
  std::vector<std::string> adds;      // HOST:IMAGE, files or directories of this machine
  std::vector<std::string> includes;  // files or directories of the source
  std::vector<std::string> with;      // presets asked for
  std::vector<std::string> without;   // inferences not wanted ("all": none)
  // The image's Env as it will run (the source's, then dslim's defaults and
  // the user's; later entries win): LD_LIBRARY_PATH and TZ count.
  std::vector<std::string> env;
  bool allow_missing_symbols = false;  // symbol errors become warnings
  resolve::Options resolve;            // bounds; LD_LIBRARY_PATH is taken from `env`

  // Probes (--probe): run with the image's Entrypoint (default: the first
  // APP at its place), `user` and `workdir`; `cmd` is what --probe-http runs
  // the entrypoint with when its probe names no arguments.
  std::vector<ProbeRequest> probes;
  std::chrono::milliseconds probe_timeout{10000};
  std::vector<std::string> entrypoint, cmd;
  std::string user, workdir;
};

struct SlimPlan {
  std::vector<std::string> entry_paths;    // image paths of the APPs, then the picks
  std::set<std::string> paths;             // every path the layer takes from the overlay
  std::map<std::string, uint32_t> owners;  // path -> uid (= gid) other than root
  std::vector<std::string> env;            // what the presets add to the Env (SSL_CERT_FILE=...)
  elf::ElfInfo arch;                       // the first program's: the image's platform
  resolve::Graph graph;                    // every program's closure
  std::vector<resolve::InferredNeed> inferred;
  // Every symbol problem (errors first); with allow_missing_symbols none is an error.
  std::vector<resolve::SymbolProblem> symbols;
  std::vector<std::string> warnings;  // for the user (dlopen hints, unmet inferred presets)
  std::vector<std::string> notes;     // what inference left to the user (-v)
  std::vector<ProbeReport> probes;
};

// Plans the image over `overlay` (the source, where the APPs and --add files
// are laid). Throws dslim::Error for
// bad requests and unreadable inputs; missing libraries and symbols are in
// the plan, for the caller to report all of them.
SlimPlan plan_image(const SlimRequest& request, rootfs::OverlayRootFs& overlay);

}  // namespace dslim::slim
