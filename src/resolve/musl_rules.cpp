// musl's search order (ldso/dynlink.c, load_library): names of the libc
// family are the loader itself; a name with '/' is a path; loaded objects by
// name; then LD_LIBRARY_PATH, then each object's DT_RUNPATH (else DT_RPATH)
// up the needed-by chain with only $ORIGIN expanded, then the lines of
// /etc/ld-musl-ARCH.path or, without that file, /lib:/usr/local/lib:/usr/lib.
#include <string_view>

#include "dslim/loader_config.hpp"
#include "resolve/walk.hpp"

namespace dslim::resolve {

namespace {

// musl's `reserved` list: libc, libpthread, librt, libm, libdl, libutil and
// libxnet followed by '.' are all served by the loader.
bool is_loader_name(std::string_view name) {
  if (!name.starts_with("lib")) return false;
  name.remove_prefix(3);
  for (std::string_view r : {"c.", "pthread.", "rt.", "m.", "dl.", "util.", "xnet."}) {
    if (name.starts_with(r)) return true;
  }
  return false;
}

// "/lib/ld-musl-x86_64.so.1" -> "x86_64".
std::string musl_arch(const std::string& interp) {
  auto start = interp.rfind("ld-musl-");
  if (start == std::string::npos) return "";
  start += 8;
  auto end = interp.find(".so", start);
  return interp.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

// Splits and expands a search path the way musl's path_open and
// fixup_rpath do: empty elements skipped, only $ORIGIN known.
std::vector<std::string> musl_dirs(const std::string& text, const std::string& origin) {
  return search_path_dirs(parse_musl_path(text), origin);
}

class MuslRules : public LoaderRules {
 public:
  MuslRules(const rootfs::RootFs& fs, const std::string& interp) {
    // musl looks for the path file under the prefix of its own location:
    // /lib/ld-musl-x86_64.so.1 -> /etc/ld-musl-x86_64.path.
    path_file_ = "/etc/ld-musl-" + musl_arch(interp) + ".path";
    if (auto text = rootfs::read_text(fs, path_file_)) {
      sys_dirs_ = musl_dirs(*text, "/");
      sys_by_ = FoundBy::MuslPathFile;
    } else {
      sys_dirs_ = {"/lib", "/usr/local/lib", "/usr/lib"};
      sys_by_ = FoundBy::DefaultDir;
    }
  }

  void start(Walk& walk, size_t program) override {
    Graph& graph = walk.graph();
    const std::string interp = *graph.nodes[program].info.interpreter;  // a copy: nodes may move
    bool wrong_arch = false;
    auto candidate = walk.open_candidate(interp, &wrong_arch);
    if (!candidate) {
      graph.missing.push_back(
          {interp,
           graph.nodes[program].path,
           {interp},
           wrong_arch ? "the file there is for another architecture" : "no such file"});
      return;
    }
    loader_ = walk.add(interp, Found::file(std::move(*candidate), FoundBy::Interpreter), program);
  }

  std::optional<Found> find(Walk& walk, const std::string& name, size_t requester,
                            std::vector<std::string>& searched) override {
    if (is_loader_name(name)) {
      if (loader_ == kNoNode) return std::nullopt;
      Found found = Found::reuse(loader_);
      found.by = FoundBy::LoaderItself;
      return found;
    }
    if (name.find('/') != std::string::npos) {
      std::string path = rootfs::normalize(name.starts_with('/') ? name : "/" + name);
      searched.push_back(path);
      if (size_t node = walk.loaded(path); node != kNoNode) return Found::reuse(node);
      auto candidate = walk.open_candidate(path);
      if (!candidate) return std::nullopt;
      return Found::file(std::move(*candidate), FoundBy::Path);
    }
    if (size_t node = walk.loaded(name); node != kNoNode) return Found::reuse(node);
    const std::string& env = walk.options().ld_library_path;
    if (!env.empty()) {
      if (auto found = walk.search_dirs(name, musl_dirs(env, "/"), FoundBy::LdLibraryPath, false,
                                        searched)) {
        return found;
      }
    }
    const Graph& graph = walk.graph();
    for (size_t p = requester; p != kNoNode; p = walk.loader_of(p)) {
      const elf::ElfInfo& info = graph.nodes[p].info;
      const auto& list = info.runpath ? info.runpath : info.rpath;
      if (!list) continue;
      FoundBy by = info.runpath ? FoundBy::Runpath : FoundBy::Rpath;
      if (auto found =
              walk.search_dirs(name, musl_dirs(*list, walk.origin_of(p)), by, false, searched)) {
        return found;
      }
    }
    return walk.search_dirs(name, sys_dirs_, sys_by_, false, searched);
  }

  std::string hint(Walk&, const std::string&) override { return ""; }

 private:
  std::string path_file_;
  std::vector<std::string> sys_dirs_;
  FoundBy sys_by_ = FoundBy::DefaultDir;
  size_t loader_ = kNoNode;
};

}  // namespace

std::unique_ptr<LoaderRules> make_musl_rules(const rootfs::RootFs& fs, const std::string& interp) {
  return std::make_unique<MuslRules>(fs, interp);
}

}  // namespace dslim::resolve
