#include "cli/source.hpp"

#include <filesystem>

#include "dslim/error.hpp"
#include "dslim/image_source.hpp"

namespace dslim::cli {

namespace fs = std::filesystem;

Source open_source(const std::string& ref) {
  Source source;
  source.ref = ref;
  if (ref.starts_with("dir:")) {
    std::string dir = ref.substr(4);
    if (dir.empty())
      throw Error("--from dir: needs a directory, e.g. dir:/ or dir:./rootfs", ErrorKind::Usage);
    auto root = std::make_unique<rootfs::DirRootFs>(dir);
    source.host_dir = root->dir();
    source.fs = std::move(root);
    return source;
  }
  // parse_reference throws a usage error for malformed references; docker://
  // is not read yet (load_image says so).
  ImageSource image = open_image_source(parse_reference(ref));
  source.fs = std::move(image.fs);
  source.env = std::move(image.env);
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
                                            const std::string& dest_dir, elf::Depth depth) {
  std::vector<resolve::Program> programs;
  for (const auto& app : apps) {
    auto in_root = inside_root(source, app);
    std::string origin = in_root ? rootfs::parent_dir(*in_root) : dest_dir;
    programs.push_back(resolve::program_from_host(app, origin, depth));
  }
  for (const auto& pick : picks) programs.push_back(resolve::program_from_root(*source.fs, pick));
  return programs;
}

}  // namespace dslim::cli
