// glibc's search order (elf/dl-load.c, _dl_map_object; man 8 ld.so):
// loaded objects by name or SONAME; a name with '/' is a path; else DT_RPATH
// up the loader chain (only when the requester has no DT_RUNPATH; an object
// with DT_RUNPATH contributes no DT_RPATH), LD_LIBRARY_PATH, the requester's
// own DT_RUNPATH, /etc/ld.so.cache, then the built-in directories. NODEFLIB
// on the requester skips the last two for system directories.
#include <algorithm>

#include "dslim/error.hpp"
#include "dslim/ld_cache.hpp"
#include "dslim/loader_config.hpp"
#include "resolve/walk.hpp"

namespace dslim::resolve {

namespace {

constexpr const char* kCachePath = "/etc/ld.so.cache";

// Debian's multiarch triplet for a machine; empty when it has none.
std::string multiarch_triplet(const elf::ElfInfo& arch) {
  bool is64 = arch.elf_class == elf::ElfClass::Elf64;
  switch (arch.machine) {
    case 62:
      return "x86_64-linux-gnu";
    case 183:
      return "aarch64-linux-gnu";
    case 3:
      return "i386-linux-gnu";
    case 40:
      return "arm-linux-gnueabihf";
    case 21:
      return is64 && arch.little_endian ? "powerpc64le-linux-gnu" : "";
    case 22:
      return is64 ? "s390x-linux-gnu" : "";
    case 243:
      return is64 ? "riscv64-linux-gnu" : "";
    default:
      return "";
  }
}

std::string platform_token(const elf::ElfInfo& arch) {
  switch (arch.machine) {
    case 62:
      return "x86_64";
    case 183:
      return "aarch64";
    case 3:
      return "i686";
    default:
      return elf::platform_of(arch).architecture;
  }
}

bool is_dir(const rootfs::RootFs& fs, const std::string& path) {
  auto where = rootfs::resolve(fs, path);
  return where && where->stat.type == rootfs::FileType::Directory;
}

class GlibcRules : public LoaderRules {
 public:
  GlibcRules(const rootfs::RootFs& fs, const elf::ElfInfo& arch, Graph& graph)
      : platform_(platform_token(arch)),
        cache_flags_(ld_cache_flags(arch.elf_class == elf::ElfClass::Elf64, arch.machine)) {
    // The built-in directories depend on how the image's glibc was built:
    // Debian-style multiarch when the image has the triplet directories,
    // else Fedora-style lib64 for 64-bit objects, else lib.
    std::string triplet = multiarch_triplet(arch);
    if (!triplet.empty() && (is_dir(fs, "/lib/" + triplet) || is_dir(fs, "/usr/lib/" + triplet))) {
      default_dirs_ = {"/lib/" + triplet, "/usr/lib/" + triplet, "/lib", "/usr/lib"};
      lib_ = "lib/" + triplet;
    } else if (arch.elf_class == elf::ElfClass::Elf64) {
      default_dirs_ = {"/lib64", "/usr/lib64"};
      lib_ = "lib64";
    } else {
      default_dirs_ = {"/lib", "/usr/lib"};
      lib_ = "lib";
    }
    auto where = rootfs::resolve(fs, kCachePath);
    if (where && where->stat.type == rootfs::FileType::Regular) {
      try {
        auto view = fs.open(where->path);
        cache_ = LdCache::parse(view->bytes(), std::string(kCachePath) + " in " + fs.describe());
      } catch (const Error& e) {
        // The loader ignores a cache it cannot use; so do we, but say so.
        graph.warnings.push_back(e.what());
      }
    }
  }

  void start(Walk& walk, size_t program) override {
    Graph& graph = walk.graph();
    const auto interp = graph.nodes[program].info.interpreter;  // a copy: nodes may move
    if (interp) {
      bool wrong_arch = false;
      auto candidate = walk.open_candidate(*interp, &wrong_arch);
      if (!candidate) {
        graph.missing.push_back(
            {*interp,
             graph.nodes[program].path,
             {*interp},
             wrong_arch ? "the file there is for another architecture" : "no such file"});
      } else {
        size_t node =
            walk.add(*interp, Found::file(std::move(*candidate), FoundBy::Interpreter), program);
        (void)node;
      }
    }
    // /etc/ld.so.preload: loaded before the program's own dependencies; a
    // name the loader cannot find is ignored with a message.
    for (const auto& name : read_ld_so_preload(walk.fs())) {
      std::vector<std::string> searched;
      auto found = find(walk, name, program, searched);
      if (!found) {
        graph.warnings.push_back("/etc/ld.so.preload names " + name +
                                 ", which the loader cannot find: ignored");
        continue;
      }
      found->by = FoundBy::Preload;
      size_t dep =
          found->node != kNoNode ? found->node : walk.add(name, std::move(*found), program);
      auto& deps = graph.nodes[program].deps;
      if (std::find(deps.begin(), deps.end(), dep) == deps.end()) deps.push_back(dep);
    }
  }

  std::optional<Found> find(Walk& walk, const std::string& name, size_t requester,
                            std::vector<std::string>& searched) override {
    if (size_t node = walk.loaded(name); node != kNoNode) return Found::reuse(node);
    Graph& graph = walk.graph();
    if (name.find('/') != std::string::npos) {
      std::string path = expand_tokens(name, walk.origin_of(requester), &lib_, &platform_);
      path = rootfs::normalize(path.starts_with('/') ? path : "/" + path);
      searched.push_back(path);
      if (size_t node = walk.loaded(path); node != kNoNode) return Found::reuse(node);
      auto candidate = walk.open_candidate(path);
      if (!candidate) return std::nullopt;
      return Found::file(std::move(*candidate), FoundBy::Path);
    }
    const elf::ElfInfo& req = graph.nodes[requester].info;
    if (!req.runpath) {
      for (size_t l = requester; l != kNoNode; l = walk.loader_of(l)) {
        const elf::ElfInfo& info = graph.nodes[l].info;
        if (info.runpath || !info.rpath) continue;
        auto found = search(walk, name, split_rpath(*info.rpath), walk.origin_of(l), FoundBy::Rpath,
                            searched);
        if (found) return found;
      }
    }
    if (!walk.options().ld_library_path.empty()) {
      size_t program = graph.programs.back();
      auto found = search(walk, name, split_search_path(walk.options().ld_library_path),
                          walk.origin_of(program), FoundBy::LdLibraryPath, searched);
      if (found) return found;
    }
    if (req.runpath) {
      auto found = search(walk, name, split_rpath(*req.runpath), walk.origin_of(requester),
                          FoundBy::Runpath, searched);
      if (found) return found;
    }
    bool nodeflib = req.nodeflib();
    if (cache_ && cache_flags_) {
      searched.push_back(kCachePath);
      auto path = cache_->lookup(name, *cache_flags_);
      auto variants = cache_->hwcaps_variants(name, *cache_flags_);
      if (!path && !variants.empty()) path = variants.front();
      if (path && !(nodeflib && is_system_path(*path))) {
        if (size_t node = walk.loaded(*path); node != kNoNode) return Found::reuse(node);
        if (auto candidate = walk.open_candidate(*path)) {
          return Found::file(std::move(*candidate), FoundBy::LdCache, kCachePath,
                             std::move(variants));
        }
      }
    }
    if (!nodeflib) {
      return walk.search_dirs(name, default_dirs_, FoundBy::DefaultDir, true, searched);
    }
    return std::nullopt;
  }

  std::string hint(Walk& walk, const std::string& name) override {
    if (!conf_dirs_) conf_dirs_ = read_ld_so_conf(walk.fs());
    for (const auto& dir : *conf_dirs_) {
      std::vector<std::string> ignored;
      if (walk.search_dirs(name, {dir}, FoundBy::LdCache, false, ignored)) {
        return dir + "/" + name + " exists and /etc/ld.so.conf lists " + dir +
               ", but /etc/ld.so.cache " + (cache_ ? "does not name it" : "is missing") +
               ": run ldconfig in the image";
      }
    }
    return "";
  }

 private:
  std::optional<Found> search(Walk& walk, const std::string& name,
                              const std::vector<std::string>& elements, const std::string& origin,
                              FoundBy by, std::vector<std::string>& searched) {
    auto dirs = search_path_dirs(elements, origin, &lib_, &platform_);
    return walk.search_dirs(name, dirs, by, true, searched);
  }

  bool is_system_path(const std::string& path) const {
    std::string dir = rootfs::parent_dir(rootfs::normalize(path));
    return std::find(default_dirs_.begin(), default_dirs_.end(), dir) != default_dirs_.end();
  }

  std::vector<std::string> default_dirs_;
  std::string lib_;
  std::string platform_;
  std::optional<int32_t> cache_flags_;
  std::optional<LdCache> cache_;
  std::optional<std::vector<std::string>> conf_dirs_;
};

}  // namespace

std::unique_ptr<LoaderRules> make_glibc_rules(const rootfs::RootFs& fs, const elf::ElfInfo& arch,
                                              Graph& graph) {
  return std::make_unique<GlibcRules>(fs, arch, graph);
}

}  // namespace dslim::resolve
