#include "dslim/resolver.hpp"

#include <algorithm>
#include <set>

#include "dslim/error.hpp"
#include "resolve/walk.hpp"

namespace dslim::resolve {

const char* to_string(FoundBy by) {
  switch (by) {
    case FoundBy::Program:
      return "program";
    case FoundBy::Interpreter:
      return "interpreter";
    case FoundBy::Path:
      return "path";
    case FoundBy::Rpath:
      return "rpath";
    case FoundBy::LdLibraryPath:
      return "ld_library_path";
    case FoundBy::Runpath:
      return "runpath";
    case FoundBy::LdCache:
      return "ld.so.cache";
    case FoundBy::DefaultDir:
      return "default";
    case FoundBy::MuslPathFile:
      return "musl-path";
    case FoundBy::LoaderItself:
      return "loader";
    case FoundBy::Preload:
      return "preload";
  }
  return "?";
}

const char* to_string(LoaderKind kind) {
  switch (kind) {
    case LoaderKind::Glibc:
      return "glibc";
    case LoaderKind::Musl:
      return "musl";
    case LoaderKind::Static:
      return "static";
  }
  return "?";
}

std::vector<std::string> Graph::files() const {
  std::set<std::string> out;
  for (const auto& node : nodes) {
    if (node.real_path.empty()) continue;  // a program from outside the root
    // Physical paths only: node.path may run through a directory symlink
    // (/lib/x -> /usr/lib/x), which the links already cover.
    out.insert(node.links.begin(), node.links.end());
    out.insert(node.real_path);
    out.insert(node.variants.begin(), node.variants.end());
  }
  return {out.begin(), out.end()};
}

LoaderKind loader_kind(const elf::ElfInfo& info) {
  if (info.interpreter) {
    return info.interpreter->find("ld-musl-") != std::string::npos ? LoaderKind::Musl
                                                                   : LoaderKind::Glibc;
  }
  // A shared object named as a program still has dependencies to find.
  return info.needed.empty() ? LoaderKind::Static : LoaderKind::Glibc;
}

Resolver::Resolver(const rootfs::RootFs& fs, Options options)
    : fs_(fs), options_(std::move(options)) {}

Graph Resolver::resolve(const std::vector<Program>& programs) const {
  Graph graph;
  // Room for a large closure (ffmpeg's is 214 objects): growing moves every node.
  graph.nodes.reserve(256);
  extend(graph, programs);
  return graph;
}

void Resolver::extend(Graph& graph, const std::vector<Program>& programs) const {
  if (programs.empty()) return;
  const bool fresh = graph.programs.empty();
  const Program& first = programs.front();
  // Copies: the walks below grow graph.nodes.
  const elf::ElfInfo arch = fresh ? first.info : graph.nodes[graph.programs.front()].info;
  const std::string arch_name = fresh ? first.display : graph.nodes[graph.programs.front()].name;
  std::map<std::string, size_t> shared_nodes;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    if (!graph.nodes[i].real_path.empty()) shared_nodes.emplace(graph.nodes[i].real_path, i);
  }
  bool first_kind = fresh;
  for (const auto& program : programs) {
    if (!program.info.compatible_with(arch)) {
      throw Error(program.display + " is for " + elf::machine_name(program.info.machine) + " but " +
                  arch_name + " is for " + elf::machine_name(arch.machine) +
                  ": one image holds one platform");
    }
    LoaderKind kind = loader_kind(program.info);
    if (first_kind || graph.loader == LoaderKind::Static) graph.loader = kind;
    first_kind = false;
    if (graph.interpreter.empty() && program.info.interpreter) {
      graph.interpreter = *program.info.interpreter;
    }
    Walk walk(fs_, options_, graph, arch, shared_nodes);
    size_t node = walk.add_program(program);
    if (kind == LoaderKind::Static) continue;
    auto rules = kind == LoaderKind::Musl ? make_musl_rules(fs_, *program.info.interpreter)
                                          : make_glibc_rules(fs_, arch, graph);
    walk.run(*rules, node);
  }
}

}  // namespace dslim::resolve
