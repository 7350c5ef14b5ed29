#pragma once
// Renderings of a dependency graph for `dslim deps`.
#include <string>

#include <nlohmann/json.hpp>

#include "dslim/resolver.hpp"

namespace dslim::cli {

// lddtree-style tree: each object's dependencies indented under it, each
// object expanded once.
std::string render_tree(const resolve::Graph& graph);

// One in-root path a line: every file the closure needs, symlinks included.
std::string render_list(const resolve::Graph& graph);

// The whole graph.
nlohmann::json graph_json(const resolve::Graph& graph);

// One line per missing library: who needs it and where the loader looked.
std::string describe_missing(const resolve::Missing& missing, const std::string& source);

}  // namespace dslim::cli
