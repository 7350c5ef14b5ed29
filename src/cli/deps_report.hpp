#pragma once
// Renderings of a dependency graph for `dslim deps`.
#include <string>

#include <nlohmann/json.hpp>

#include "dslim/resolver.hpp"
#include "dslim/symbol_check.hpp"

namespace dslim::cli {

// lddtree-style tree: each object's dependencies indented under it, each
// object expanded once; then the symbol problems, one a line.
std::string render_tree(const resolve::Graph& graph,
                        const std::vector<resolve::SymbolProblem>& problems,
                        const std::string& source);

// One in-root path a line: every file the closure needs, symlinks included.
std::string render_list(const resolve::Graph& graph);

// The whole graph, with the symbol problems under "symbols".
nlohmann::json graph_json(const resolve::Graph& graph,
                          const std::vector<resolve::SymbolProblem>& problems);

// One line per missing library: who needs it and where the loader looked.
std::string describe_missing(const resolve::Missing& missing, const std::string& source);

// A symbol problem as `deps --format json` and `binary --report json` give it.
nlohmann::json symbol_problem_json(const resolve::SymbolProblem& problem);

// One line per symbol problem, naming the program, the symbol, the version
// and the library, and what to do about it.
std::string describe_symbol_problem(const resolve::SymbolProblem& problem,
                                    const std::string& source);

}  // namespace dslim::cli
