#pragma once
// The plan of a slim image: what goes into it (DESIGN.md §2, `slim` stage).
// The programs placed, their closures by the loader's rules, the files
// asked for (--add, --include, presets), the needs inferred from what the
// code imports, each ELF file among them resolved as a program is, and the
// symbol check over the whole. The layer writer then takes `paths` from the
// overlay.
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "dslim/inferred_needs.hpp"
#include "dslim/resolver.hpp"
#include "dslim/rootfs.hpp"
#include "dslim/symbol_check.hpp"

namespace dslim::slim {

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
};

// Plans the image over `overlay` (the source, where the APPs and --add files
// are laid). Throws dslim::Error for
// bad requests and unreadable inputs; missing libraries and symbols are in
// the plan, for the caller to report all of them.
SlimPlan plan_image(const SlimRequest& request, rootfs::OverlayRootFs& overlay);

}  // namespace dslim::slim
