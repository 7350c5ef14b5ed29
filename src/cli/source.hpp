#pragma once
// Opening `--from` references and reading the programs to slim, shared by
// the commands that resolve (deps, binary).
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/transfer_progress.hpp"
#include "dslim/layered_rootfs.hpp"
#include "dslim/oci.hpp"
#include "dslim/resolver.hpp"
#include "dslim/rootfs.hpp"
#include "dslim/transport_options.hpp"

namespace dslim::cli {

// --from and what shapes reading it, shared by deps, binary and inspect.
struct SourceFlags {
  std::string from = "dir:/";
  std::string platform;   // OS/ARCH[/VARIANT]; empty: from the first APP's ELF header
  std::string cache_dir;  // empty: $XDG_CACHE_HOME/dslim or ~/.cache/dslim
  bool no_cache = false;
  RegistryFlags registry;  // docker:// sources (and destinations)
  // Input bounds (README "Security"); sizes as users write them ("8GiB").
  std::string max_layer_size;
  uint64_t max_entries = rootfs::kMaxLayeredEntries;
  int max_symlink_hops = rootfs::kMaxSymlinkHops;
  std::string max_elf_size;
  int max_dependency_depth = resolve::kMaxDependencyDepth;
};

// --from (unless `with_from` is false), --platform, --cache-dir, --no-cache,
// and the bounds on reading a source (--max-layer-size, --max-entries,
// --max-symlink-hops).
void add_source_options(CLI::App* cmd, SourceFlags& flags, bool with_from = true);

// The bounds on reading programs and walking their dependencies
// (--max-elf-size, --max-dependency-depth), for the commands that resolve.
void add_resolve_limit_options(CLI::App* cmd, SourceFlags& flags);

// The resolver's options: the bounds from the flags, LD_LIBRARY_PATH from `env`.
resolve::Options resolve_options(const SourceFlags& flags, const std::vector<std::string>& env);

// The cache directory: --cache-dir, else $XDG_CACHE_HOME/dslim, else
// ~/.cache/dslim; nullopt with --no-cache or when none can be named.
std::optional<std::string> cache_root(const SourceFlags& flags);

// Registry options and the blob cache, for reading and writing images.
TransportOptions transport_options(const SourceFlags& flags);

// The layer store the flags ask for: the cache's layers/ directory, or
// temporary files (--no-cache, or no cache directory to be had).
std::shared_ptr<rootfs::LayerStore> layer_store(const SourceFlags& flags);

// The platform to read from an image index: --platform, else the first APP's
// ELF header, else linux/amd64.
oci::Platform wanted_platform(const SourceFlags& flags, const std::vector<std::string>& apps);

// Logs how a layer of an image source was obtained (-v shows cache hits).
void log_layer(const rootfs::LayerReport& report);

struct Source {
  std::string ref;  // as the user typed it
  std::unique_ptr<rootfs::RootFs> fs;
  std::string host_dir;                    // for dir: references, the canonical host directory
  std::optional<oci::ImageConfig> config;  // an image's; none for dir:
  uint64_t size = 0;                       // an image's bytes as pulled (manifest, config, layers)
  std::string digest;                      // an image's manifest digest; empty for dir:

  // The image config's Env (K=V); empty for dir:.
  std::vector<std::string> env() const {
    return config ? config->config.env : std::vector<std::string>{};
  }
};

// Opens a `--from` reference; `apps` pick the default platform. Throws
// dslim::Error (Usage for an unknown form).
Source open_source(const SourceFlags& flags, const std::vector<std::string>& apps);

// The value of `key` in a K=V list ("" when unset); later entries win.
std::string env_value(const std::vector<std::string>& env, const std::string& key);

// Programs named on the command line: APPs are files on this machine, picks
// are paths inside the source. `dest_dir` is where APPs will be placed in the
// image (their $ORIGIN) unless they already lie inside a dir: source.
std::vector<resolve::Program> load_programs(const Source& source,
                                            const std::vector<std::string>& apps,
                                            const std::vector<std::string>& picks,
                                            const std::string& dest_dir, elf::Depth depth,
                                            uint64_t max_elf_size);

}  // namespace dslim::cli
