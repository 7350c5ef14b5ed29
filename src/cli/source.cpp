#include "cli/source.hpp"

#include "cli/size.hpp"

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>

#include "dslim/elf.hpp"
#include "dslim/error.hpp"
#include "dslim/image_source.hpp"
#include "dslim/source.hpp"

namespace dslim::cli {

namespace fs = std::filesystem;

void add_source_options(CLI::App* cmd, SourceFlags& flags, bool with_from) {
  if (with_from)
    cmd->add_option("--from", flags.from,
                    "Where libraries come from: dir:ROOT (default dir:/), oci:DIR[:TAG|@DIGEST], "
                    "oci-archive:FILE[:TAG], docker-archive:FILE[:NAME:TAG], "
                    "docker://HOST/REPO[:TAG|@DIGEST] or REPO[:TAG] (Docker Hub)")
        ->type_name("SRC");
  cmd->add_option(
         "--platform", flags.platform,
         std::string("Image to read from a multi-platform source, e.g. linux/arm64 ") +
             (with_from ? "(default: the APP's own, else linux/amd64)" : "(default linux/amd64)"))
      ->type_name("OS/ARCH[/VARIANT]");
  cmd->add_option("--cache-dir", flags.cache_dir,
                  "Where indexed layers are kept between runs (default "
                  "$XDG_CACHE_HOME/dslim, else ~/.cache/dslim)")
      ->type_name("DIR");
  cmd->add_flag("--no-cache", flags.no_cache,
                "Neither read nor fill the cache; layers go to temporary files");
  add_registry_options(cmd, flags.registry);
  cmd->add_option("--max-layer-size", flags.max_layer_size,
                  "Refuse a source layer whose tar inflates to more than SIZE (default 8GiB)")
      ->type_name("SIZE");
  cmd->add_option("--max-entries", flags.max_entries,
                  "Refuse a source image with more tar entries than N over all layers")
      ->type_name("N")
      ->capture_default_str();
  cmd->add_option("--max-symlink-hops", flags.max_symlink_hops,
                  "Give up resolving a path in the source after N symlinks")
      ->type_name("N")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

void add_resolve_limit_options(CLI::App* cmd, SourceFlags& flags) {
  cmd->add_option("--max-elf-size", flags.max_elf_size,
                  "Refuse an ELF file (APP or library) bigger than SIZE (default 1GiB)")
      ->type_name("SIZE");
  cmd->add_option("--max-dependency-depth", flags.max_dependency_depth,
                  "Refuse a chain of more than N levels of DT_NEEDED below a program")
      ->type_name("N")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

resolve::Options resolve_options(const SourceFlags& flags, const std::vector<std::string>& env) {
  resolve::Options options;
  options.ld_library_path = env_value(env, "LD_LIBRARY_PATH");
  if (!flags.max_elf_size.empty()) options.max_elf_size = parse_size(flags.max_elf_size);
  options.max_dependency_depth = flags.max_dependency_depth;
  return options;
}

TransportOptions transport_options(const SourceFlags& flags) {
  TransportOptions options;
  options.registry = registry_options(flags.registry);
  if (auto root = cache_root(flags)) options.cache = std::make_shared<BlobCache>(*root);
  return options;
}

std::optional<std::string> cache_root(const SourceFlags& flags) {
  if (flags.no_cache) return std::nullopt;
  if (!flags.cache_dir.empty()) return flags.cache_dir;
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg && *xdg == '/') return std::string(xdg) + "/dslim";
  // Said once a run, though every source asks.
  static std::once_flag said;
  auto none = [](const std::string& why) {
    std::call_once(
        said, [&] { spdlog::debug("no cache directory ({}): layers go to temporary files", why); });
    return std::nullopt;
  };
  const char* home = std::getenv("HOME");
  if (!home || !*home) return none("HOME is not set");
  // The default only where it can be made (its nearest existing directory
  // writable): HOME in a container is often "/" on a read-only root. A
  // --cache-dir or XDG_CACHE_HOME that cannot be made is an error, as the
  // user named it.
  std::string dir = std::string(home) + "/.cache/dslim";
  fs::path existing = dir;
  while (existing.has_relative_path() && ::access(existing.c_str(), F_OK) != 0)
    existing = existing.parent_path();
  if (::access(existing.c_str(), W_OK) != 0) return none(dir + ": " + std::strerror(errno));
  return dir;
}

std::shared_ptr<rootfs::LayerStore> layer_store(const SourceFlags& flags) {
  auto root = cache_root(flags);
  if (!root) return rootfs::temporary_layer_store();
  return rootfs::directory_layer_store(*root + "/layers");
}

oci::Platform wanted_platform(const SourceFlags& flags, const std::vector<std::string>& apps) {
  if (!flags.platform.empty()) return oci::parse_platform(flags.platform);
  if (!apps.empty()) {
    try {
      auto p = elf::platform_of(elf::read_elf_file(apps.front(), elf::Depth::Headers));
      if (!p.architecture.empty()) return {p.os, p.architecture, p.variant};
    } catch (const Error&) {
      // A script or a bad APP: reading it for real reports the problem.
    }
  }
  return kDefaultPlatform;
}

void log_layer(const rootfs::LayerReport& l) {
  static std::mutex mutex;  // layers are fetched on several threads
  std::lock_guard lock(mutex);
  if (l.repaired)
    spdlog::warn("layer {}: the cache entry was damaged; rebuilt it as {}", l.digest, l.location);
  else if (l.reused)
    spdlog::debug("layer {}: cache hit {}", l.digest, l.location);
  else
    spdlog::debug("layer {}: indexed{}", l.digest,
                  l.location.empty() ? " (not cached)" : " into the cache " + l.location);
}

Source open_source(const SourceFlags& flags, const std::vector<std::string>& apps) {
  const std::string& ref = flags.from;
  Source source;
  source.ref = ref;
  if (ref.starts_with("dir:")) {
    std::string dir = ref.substr(4);
    if (dir.empty())
      throw Error("--from dir: needs a directory, e.g. dir:/ or dir:./rootfs", ErrorKind::Usage);
    auto root = std::make_unique<rootfs::DirRootFs>(dir);
    root->set_max_symlink_hops(flags.max_symlink_hops);
    source.host_dir = root->dir();
    source.fs = std::move(root);
    return source;
  }
  // parse_reference throws a usage error for unknown forms.
  Reference parsed = parse_reference(ref);
  SourceOptions options;
  options.platform = wanted_platform(flags, apps);
  options.layers = layer_store(flags);
  options.observer = log_layer;
  if (!flags.max_layer_size.empty())
    options.limits.max_layer_inflated = parse_size(flags.max_layer_size);
  options.limits.max_entries = flags.max_entries;
  options.max_symlink_hops = flags.max_symlink_hops;
  options.transport = transport_options(flags);
  ImageSource image = open_image_source(parsed, options);
  source.fs = std::move(image.fs);
  source.config = std::move(image.config);
  source.size = image.size;
  source.digest = image.digest;
  return source;
}

std::string env_value(const std::vector<std::string>& env, const std::string& key) {
  std::string value;
  for (const auto& entry : env) {
    if (entry.size() > key.size() && entry.compare(0, key.size(), key) == 0 &&
        entry[key.size()] == '=') {
      value = entry.substr(key.size() + 1);
    }
  }
  return value;
}

namespace {

// The in-root path of a host file when it lies inside a dir: source.
std::optional<std::string> inside_root(const Source& source, const std::string& host_path) {
  if (source.host_dir.empty()) return std::nullopt;
  std::error_code ec;
  fs::path real = fs::canonical(host_path, ec);
  if (ec) return std::nullopt;
  fs::path rel = real.lexically_relative(source.host_dir);
  if (rel.empty() || rel.native().starts_with("..")) return std::nullopt;
  return rootfs::normalize("/" + rel.string());
}

}  // namespace

std::vector<resolve::Program> load_programs(const Source& source,
                                            const std::vector<std::string>& apps,
                                            const std::vector<std::string>& picks,
                                            const std::string& dest_dir, elf::Depth depth,
                                            uint64_t max_elf_size) {
  std::vector<resolve::Program> programs;
  for (const auto& app : apps) {
    auto in_root = inside_root(source, app);
    std::string origin = in_root ? rootfs::parent_dir(*in_root) : dest_dir;
    programs.push_back(resolve::program_from_host(app, origin, depth, max_elf_size));
  }
  for (const auto& pick : picks)
    programs.push_back(resolve::program_from_root(*source.fs, pick, max_elf_size));
  return programs;
}

}  // namespace dslim::cli
