#include "cli/deps_report.hpp"

#include <functional>
#include <set>
#include <sstream>

namespace dslim::cli {

using resolve::Graph;
using resolve::Node;

namespace {

std::string join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += sep;
    out += item;
  }
  return out;
}

}  // namespace

std::string render_tree(const Graph& graph) {
  std::ostringstream out;
  std::set<size_t> expanded;
  std::function<void(size_t, int)> walk = [&](size_t index, int depth) {
    const Node& node = graph.nodes[index];
    for (size_t dep : node.deps) {
      const Node& child = graph.nodes[dep];
      if (child.found_by == resolve::FoundBy::Interpreter) continue;  // shown on the program line
      out << std::string(4 * depth, ' ') << child.name << " => " << child.path;
      if (child.real_path != child.path) out << " -> " << child.real_path;
      out << " [" << to_string(child.found_by) << "]\n";
      if (expanded.insert(dep).second) walk(dep, depth + 1);
    }
    for (const auto& missing : graph.missing) {
      if (missing.needed_by == node.path && missing.name != node.info.interpreter.value_or("")) {
        out << std::string(4 * depth, ' ') << missing.name << " => not found\n";
      }
    }
  };
  for (size_t program : graph.programs) {
    const Node& node = graph.nodes[program];
    out << node.path;
    if (node.info.interpreter)
      out << " (interpreter => " << *node.info.interpreter << ")";
    else
      out << " (static)";
    out << "\n";
    expanded.insert(program);
    walk(program, 1);
  }
  return out.str();
}

std::string render_list(const Graph& graph) {
  std::string out;
  for (const auto& path : graph.files()) out += path + "\n";
  return out;
}

nlohmann::json graph_json(const Graph& graph) {
  using nlohmann::json;
  json objects = json::array();
  for (const auto& node : graph.nodes) {
    json deps = json::array();
    for (size_t dep : node.deps) deps.push_back(graph.nodes[dep].path);
    json object = {{"name", node.name},
                   {"path", node.path},
                   {"real_path", node.real_path},
                   {"links", node.links},
                   {"found_by", to_string(node.found_by)},
                   {"needed", node.info.needed},
                   {"deps", deps}};
    if (!node.search_dir.empty()) object["search_dir"] = node.search_dir;
    if (!node.variants.empty()) object["hwcaps_variants"] = node.variants;
    if (node.info.soname) object["soname"] = *node.info.soname;
    if (node.info.rpath) object["rpath"] = *node.info.rpath;
    if (node.info.runpath) object["runpath"] = *node.info.runpath;
    if (node.info.interpreter) object["interpreter"] = *node.info.interpreter;
    objects.push_back(std::move(object));
  }
  json missing = json::array();
  for (const auto& m : graph.missing) {
    json entry = {{"name", m.name}, {"needed_by", m.needed_by}, {"searched", m.searched}};
    if (!m.hint.empty()) entry["hint"] = m.hint;
    missing.push_back(std::move(entry));
  }
  json programs = json::array();
  for (size_t p : graph.programs) programs.push_back(graph.nodes[p].path);
  return {{"loader", to_string(graph.loader)},
          {"interpreter", graph.interpreter},
          {"programs", programs},
          {"objects", objects},
          {"missing", missing},
          {"files", graph.files()},
          {"warnings", graph.warnings}};
}

std::string describe_missing(const resolve::Missing& missing, const std::string& source) {
  std::string line = missing.name + " needed by " + missing.needed_by + ": not found in " + source;
  if (!missing.searched.empty()) line += " (searched " + join(missing.searched, ", ") + ")";
  if (!missing.hint.empty()) line += "; " + missing.hint;
  return line;
}

}  // namespace dslim::cli
