#include "resolve/walk.hpp"

#include <algorithm>
#include <deque>

#include "dslim/error.hpp"

namespace dslim::resolve {

Walk::Walk(const rootfs::RootFs& fs, const Options& options, Graph& graph, const elf::ElfInfo& arch,
           std::map<std::string, size_t>& shared_nodes)
    : fs_(fs),
      in_root_(" in " + fs.describe()),
      paths_(fs),
      options_(options),
      graph_(graph),
      arch_(arch),
      shared_nodes_(shared_nodes) {}

size_t Walk::add_program(const Program& program) {
  Node node;
  node.name = program.display;
  node.found_by = FoundBy::Program;
  node.info = program.info;
  node.role = program.role;
  node.host_path = program.host_path;
  size_t index = graph_.nodes.size();
  if (program.in_root_path) {
    auto where = paths_.resolve(*program.in_root_path);
    if (!where) throw Error(*program.in_root_path + ": not found in " + fs_.describe());
    node.path = *program.in_root_path;
    node.real_path = where->path;
    node.links = where->links;
    node.stat = where->stat;
    by_real_[node.real_path] = index;
  } else {
    node.path = program.display;
  }
  graph_.nodes.push_back(std::move(node));
  graph_.programs.push_back(index);
  origin_[index] = program.origin;
  return index;
}

void Walk::run(LoaderRules& rules, size_t program) {
  queue_.push_back(program);
  rules.start(*this, program);
  while (!queue_.empty()) {
    size_t current = queue_.front();
    queue_.pop_front();
    // Copy: adding nodes may reallocate graph_.nodes.
    const std::vector<std::string> needed = graph_.nodes[current].info.needed;
    for (const auto& name : needed) {
      std::vector<std::string> searched;
      auto found = rules.find(*this, name, current, searched);
      if (!found) {
        const Node& requester = graph_.nodes[current];
        graph_.missing.push_back({name, requester.path, searched, rules.hint(*this, name)});
        continue;
      }
      size_t dep = found->node != kNoNode ? found->node : add(name, std::move(*found), current);
      auto& deps = graph_.nodes[current].deps;
      if (std::find(deps.begin(), deps.end(), dep) == deps.end()) deps.push_back(dep);
    }
  }
}

std::optional<Candidate> Walk::open_candidate(const std::string& path, bool* wrong_arch) {
  auto where = paths_.resolve(path);
  if (!where || where->stat.type != rootfs::FileType::Regular) return std::nullopt;
  // Piecewise: a few KiB of each candidate, never a mapping of the whole file.
  auto file = fs_.open_reader(where->path, where->stat);
  const std::string name = path + in_root_;
  check_elf_size(file->size(), options_.max_elf_size, name);
  auto info = elf::read_elf(
      file->size(), [&](uint64_t offset, std::span<std::byte> out) { file->read(offset, out); },
      name);
  if (!info.compatible_with(arch_)) {
    if (wrong_arch) *wrong_arch = true;
    return std::nullopt;
  }
  return Candidate{std::move(*where), rootfs::normalize(path), std::move(info)};
}

std::vector<std::string> Walk::hwcaps_dirs(const std::string& dir) {
  auto it = hwcaps_cache_.find(dir);
  if (it != hwcaps_cache_.end()) return it->second;
  std::vector<std::string> dirs;
  std::string base = dir + "/glibc-hwcaps";
  auto where = paths_.resolve(base);
  if (where && where->stat.type == rootfs::FileType::Directory) {
    for (const auto& entry : fs_.list(where->path)) dirs.push_back(base + "/" + entry);
    // glibc tries the highest level first (x86-64-v4 before v3 before v2).
    std::sort(dirs.rbegin(), dirs.rend());
  }
  return hwcaps_cache_[dir] = dirs;
}

std::optional<Found> Walk::search_dirs(const std::string& name,
                                       const std::vector<std::string>& dirs, FoundBy by,
                                       bool hwcaps, std::vector<std::string>& searched) {
  for (const auto& dir : dirs) {
    searched.push_back(dir);
    std::vector<std::string> variants;
    if (hwcaps) {
      for (const auto& sub : hwcaps_dirs(dir)) {
        if (open_candidate(sub + "/" + name))
          variants.push_back(rootfs::normalize(sub + "/" + name));
      }
    }
    auto candidate = open_candidate(dir + "/" + name);
    if (!candidate && !variants.empty()) {
      // Only a CPU-specific build exists: the loader takes the best one.
      candidate = open_candidate(variants.front());
    }
    if (candidate) return Found::file(std::move(*candidate), by, dir, std::move(variants));
  }
  return std::nullopt;
}

size_t Walk::loaded(const std::string& name) const {
  auto it = names_.find(name);
  return it == names_.end() ? kNoNode : it->second;
}

void Walk::add_name(const std::string& name, size_t node) {
  names_.emplace(name, node);
}

void Walk::enqueue(size_t node, size_t loader, const std::string& origin) {
  // Breadth-first, so the first depth a node gets is its shortest chain,
  // which is what bounds a hostile chain of libraries each needing the next.
  const int depth = loader == kNoNode ? 0 : depth_[loader] + 1;
  if (depth > options_.max_dependency_depth)
    throw Error(graph_.nodes[node].path + ": more than " +
                std::to_string(options_.max_dependency_depth) + " levels of DT_NEEDED below " +
                graph_.nodes[graph_.programs.back()].name +
                " (--max-dependency-depth raises the bound)");
  depth_[node] = depth;
  loader_[node] = loader;
  origin_[node] = origin;
  queue_.push_back(node);
}

size_t Walk::add(std::string name, Found found, size_t loader) {
  Candidate& c = *found.candidate;
  auto known = by_real_.find(c.where.path);
  if (known != by_real_.end()) {
    add_name(name, known->second);
    return known->second;
  }
  size_t index;
  auto shared = shared_nodes_.find(c.where.path);
  if (shared != shared_nodes_.end()) {
    // Found by an earlier program's walk: one node, walked again here since
    // this program's search paths may resolve its dependencies differently.
    index = shared->second;
  } else {
    if (graph_.nodes.size() >= kMaxObjects) {
      throw Error("more than " + std::to_string(kMaxObjects) + " objects in the closure of " +
                  graph_.nodes[graph_.programs.back()].name);
    }
    Node node;
    node.name = name;
    node.path = c.path;
    node.real_path = c.where.path;
    node.stat = c.where.stat;
    node.links = std::move(c.where.links);
    node.found_by = found.by;
    node.search_dir = std::move(found.search_dir);
    node.info = std::move(c.info);
    for (const auto& variant : found.variants) {
      if (variant == c.path) continue;
      auto where = paths_.resolve(variant);
      if (!where) continue;
      for (const auto& link : where->links) node.variants.push_back(link);
      node.variants.push_back(where->path);
    }
    index = graph_.nodes.size();
    graph_.nodes.push_back(std::move(node));
    shared_nodes_[c.where.path] = index;
  }
  by_real_[c.where.path] = index;
  add_name(name, index);
  add_name(c.path, index);
  add_name(c.where.path, index);
  if (const auto& soname = graph_.nodes[index].info.soname) add_name(*soname, index);
  enqueue(index, loader, rootfs::parent_dir(c.path));
  return index;
}

size_t Walk::loader_of(size_t node) const {
  auto it = loader_.find(node);
  return it == loader_.end() ? kNoNode : it->second;
}

std::string Walk::origin_of(size_t node) const {
  auto it = origin_.find(node);
  return it == origin_.end() ? "/" : it->second;
}

}  // namespace dslim::resolve
