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
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "dslim/accounts.hpp"
#include "dslim/inferred_needs.hpp"
#include "dslim/oci.hpp"
#include "dslim/packages.hpp"
#include "dslim/probe.hpp"
#include "dslim/resolver.hpp"
#include "dslim/rootfs.hpp"
#include "dslim/symbol_check.hpp"

namespace dslim::slim {

// One --probe: the image's entrypoint run in a sandbox over the source.
struct ProbeRequest {
  // After the entrypoint (shell words of --probe); none: the request's Cmd,
  // as `docker run IMAGE` runs it. Without an entrypoint, the whole command.
  std::optional<std::vector<std::string>> args;
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

  // Probes (--probe): run with the image's Entrypoint (none: the first APP
  // at its place; empty: the probe's arguments are the whole command),
  // `user` and `workdir`; `cmd` is what a probe without arguments runs the
  // entrypoint with. At the timeout, `stop_signal`, then SIGKILL.
  std::vector<ProbeRequest> probes;
  std::chrono::milliseconds probe_timeout{10000};
  std::optional<std::vector<std::string>> entrypoint;
  std::vector<std::string> cmd;
  std::string user, workdir;
  int stop_signal = 15;  // SIGTERM

  // What `dslim image` keeps of its source (binary: off): every file's
  // owner and group as the source has them (modes are always kept); the
  // directories the config names (WorkingDir, Volumes), made when the
  // source lacks them; and its accounts: the passwd preset takes the
  // source's /etc/passwd and /etc/group whole, and `user` gets its lines.
  bool keep_owners = false;
  std::vector<std::string> dirs;
  bool source_accounts = false;

  // The source's package database trimmed to the packages the image keeps
  // files of, and their licence files (--no-package-metadata: neither).
  bool package_metadata = true;
  // SlimPlan::packages and app_files without the metadata (--sbom-out).
  bool list_packages = false;
};

struct SlimPlan {
  std::vector<std::string> entry_paths;           // image paths of the APPs, then the picks
  std::set<std::string> paths;                    // every path the layer takes from the overlay
  std::map<std::string, rootfs::UserIds> owners;  // path -> owner other than root
  std::vector<std::string> env;  // what the presets add to the Env (SSL_CERT_FILE=...)
  elf::ElfInfo arch;             // the first program's: the image's platform
  resolve::Graph graph;          // every program's closure
  std::vector<resolve::InferredNeed> inferred;
  // Every symbol problem (errors first); with allow_missing_symbols none is an error.
  std::vector<resolve::SymbolProblem> symbols;
  std::vector<std::string> warnings;  // for the user (dlopen hints, unmet inferred presets)
  std::vector<std::string> notes;     // what inference left to the user (-v)
  std::vector<ProbeReport> probes;
  // The source's packages the image keeps files of (sorted by name), and
  // the image's files that come from elsewhere (APPs, --add, generated).
  std::vector<packages::Package> packages;
  std::vector<std::string> app_files;
};

// The program an image's config runs, in `fs`: Entrypoint[0], else Cmd[0];
// a name without a slash is looked up along the config's PATH (the
// runtime's default when it has none), a relative path from its WorkingDir.
// `files` are the command's arguments that are absolute paths of regular
// files in `fs` (the script a interpreter runs). Throws dslim::Error naming
// `what` (the image) when there is no command or the program is not there.
struct EntryCommand {
  std::string program;
  std::vector<std::string> files;
};
EntryCommand find_entry_command(const rootfs::RootFs& fs, const oci::ContainerConfig& config,
                                const std::string& what);

// What an SBOM of the planned image says: the plan's packages, and its
// application files with their digests (read from `overlay`).
packages::SbomInput sbom_input(const SlimPlan& plan, const rootfs::RootFs& overlay,
                               const std::string& image_name, const std::string& manifest_digest,
                               int64_t epoch);

// "SIGQUIT", "QUIT", "3", "SIGRTMIN+3": the signal's number. Throws
// dslim::Error naming `what` for anything else.
int parse_signal(const std::string& name, const std::string& what);

// Plans the image over `overlay` (the source, where the APPs and --add files
// are laid). Throws dslim::Error for
// bad requests and unreadable inputs; missing libraries and symbols are in
// the plan, for the caller to report all of them.
SlimPlan plan_image(const SlimRequest& request, rootfs::OverlayRootFs& overlay);

}  // namespace dslim::slim
