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

// "GLIBC_2.2.5 … GLIBC_2.31": the first and last of a long list, without
// the private versions no program is linked against.
std::string version_range(std::vector<std::string> versions) {
  std::erase_if(versions, [](const std::string& v) { return v.ends_with("_PRIVATE"); });
  if (versions.size() <= 3) return join(versions, ", ");
  return versions.front() + " \u2026 " + versions.back();
}

// What a user can do about a version or symbol the source lacks.
std::string remedy(const resolve::SymbolProblem& p) {
  if (p.version.starts_with("GLIBC_") || p.library.starts_with("libc.so"))
    return "build against that glibc or use a newer source image";
  if (!p.library.empty())
    return "build against the source's " + p.library + " or use a source image with a newer one";
  return "build against the source's libraries or use a newer source image";
}

}  // namespace

static const char* issue_name(resolve::SymbolIssue issue) {
  switch (issue) {
    case resolve::SymbolIssue::MissingVersion:
      return "missing_version";
    case resolve::SymbolIssue::MissingSymbol:
      return "missing_symbol";
    case resolve::SymbolIssue::NoVersionInfo:
      return "no_version_info";
  }
  return "?";
}

nlohmann::json symbol_problem_json(const resolve::SymbolProblem& p) {
  nlohmann::json out = {{"issue", issue_name(p.issue)},
                        {"severity", p.error ? "error" : "warning"},
                        {"object", p.object}};
  if (!p.symbol.empty()) out["symbol"] = p.symbol;
  if (!p.version.empty()) out["version"] = p.version;
  if (!p.library.empty()) out["library"] = p.library;
  if (!p.provider.empty()) {
    out["provider"] = p.provider;
    out["provider_versions"] = p.provider_versions;
  }
  return out;
}

std::string render_tree(const Graph& graph, const std::vector<resolve::SymbolProblem>& problems,
                        const std::string& source) {
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
  for (const auto& problem : problems) {
    out << (problem.error ? "error: " : "warning: ") << describe_symbol_problem(problem, source)
        << "\n";
  }
  return out.str();
}

std::string render_list(const Graph& graph) {
  std::string out;
  for (const auto& path : graph.files()) out += path + "\n";
  return out;
}

nlohmann::json graph_json(const Graph& graph, const std::vector<resolve::SymbolProblem>& problems) {
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
  json symbols = json::array();
  for (const auto& p : problems) symbols.push_back(symbol_problem_json(p));
  return {{"loader", to_string(graph.loader)},
          {"interpreter", graph.interpreter},
          {"programs", programs},
          {"objects", objects},
          {"missing", missing},
          {"symbols", symbols},
          {"files", graph.files()},
          {"warnings", graph.warnings}};
}

std::string describe_symbol_problem(const resolve::SymbolProblem& p, const std::string& source) {
  const std::string in_source = " in " + source + " (" + p.provider + ")";
  switch (p.issue) {
    case resolve::SymbolIssue::MissingVersion:
      return p.object + " needs " + p.version + (p.symbol.empty() ? "" : " (" + p.symbol + ")") +
             " from " + p.library + ", but " + p.library + in_source + " defines " +
             (p.provider_versions.empty() ? "no versions" : version_range(p.provider_versions)) +
             ": " + remedy(p);
    case resolve::SymbolIssue::NoVersionInfo:
      return p.library + in_source + ": no version information available (required by " + p.object +
             ")";
    case resolve::SymbolIssue::MissingSymbol:
      break;
  }
  if (!p.version.empty()) {
    return p.object + " needs " + p.symbol + "@" + p.version + " from " + p.library + ", but " +
           p.library + (p.provider.empty() ? " in " + source : in_source) +
           " does not define it: " + remedy(p);
  }
  std::string searched;
  for (size_t i = 0; i < p.searched.size() && i < 3; ++i)
    searched += (i ? ", " : "") + p.searched[i];
  if (p.searched.size() > 3)
    searched += ", \u2026 " + std::to_string(p.searched.size()) + " objects";
  return p.object + " needs " + p.symbol + ", but no object it loads from " + source +
         " defines it" + (searched.empty() ? "" : " (looked in " + searched + ")") + ": " +
         remedy(p);
}

std::string describe_missing(const resolve::Missing& missing, const std::string& source) {
  std::string line = missing.name + " needed by " + missing.needed_by + ": not found in " + source;
  if (!missing.searched.empty()) line += " (searched " + join(missing.searched, ", ") + ")";
  if (!missing.hint.empty()) line += "; " + missing.hint;
  return line;
}

}  // namespace dslim::cli
