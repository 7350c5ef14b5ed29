// `dslim deps`: what a binary needs and where each file was found.
#include <iostream>

#include <spdlog/spdlog.h>

#include "cli/commands.hpp"
#include "cli/deps_report.hpp"
#include "cli/source.hpp"
#include "dslim/error.hpp"
#include "dslim/symbol_check.hpp"

namespace dslim::cli {

namespace {

struct DepsOptions {
  std::vector<std::string> apps;
  std::vector<std::string> picks;
  SourceFlags source;
  std::string format = "tree";
  std::vector<std::string> env;
};

int run_deps(const DepsOptions& opt) {
  if (opt.apps.empty() && opt.picks.empty()) {
    throw Error("deps: name at least one APP or --pick PATH", ErrorKind::Usage);
  }
  Source source = open_source(opt.source, opt.apps);
  std::vector<std::string> env = source.env();
  env.insert(env.end(), opt.env.begin(), opt.env.end());
  resolve::Options options = resolve_options(opt.source, env);
  auto programs =
      load_programs(source, opt.apps, opt.picks, "/", elf::Depth::Headers, options.max_elf_size);
  auto graph = resolve::Resolver(*source.fs, options).resolve(programs);
  for (const auto& warning : graph.warnings) spdlog::warn("{}", warning);
  resolve::GraphSymbols symbols;
  symbols.read(graph, *source.fs);
  const auto problems = resolve::check_symbols(graph, symbols);

  if (opt.format == "json") {
    std::cout << graph_json(graph, problems).dump(2) << "\n";
  } else if (opt.format == "list") {
    std::cout << render_list(graph);
  } else {
    std::cout << render_tree(graph, problems, source.ref);
  }
  std::cout.flush();
  for (const auto& missing : graph.missing) {
    spdlog::error("{}", describe_missing(missing, source.ref));
  }
  bool failed = !graph.missing.empty();
  for (const auto& problem : problems) {
    failed |= problem.error;
    // The tree and json outputs carry every problem; stderr repeats the
    // errors (as for a missing library), and the list's warnings.
    if (problem.error)
      spdlog::error("{}", describe_symbol_problem(problem, source.ref));
    else if (opt.format == "list")
      spdlog::warn("{}", describe_symbol_problem(problem, source.ref));
  }
  return failed ? static_cast<int>(ErrorKind::Input) : 0;
}

}  // namespace

void add_deps_command(CLI::App& app, const GlobalOptions&, int& exit_code) {
  auto opt = std::make_shared<DepsOptions>();
  auto* cmd = app.add_subcommand(
      "deps", "Show the files a binary needs and where its loader finds them (like lddtree)");
  cmd->footer(
      "Examples:\n"
      "  dslim deps ./app                       # against this machine (dir:/)\n"
      "  dslim deps ./app --from dir:./rootfs   # against an unpacked root filesystem\n"
      "  dslim deps --pick /usr/sbin/nginx --from dir:./rootfs --format list\n"
      "  dslim deps ./app --from alpine:3.20       # against an image on Docker Hub\n"
      "  dslim deps --pick /usr/sbin/nginx --from oci-archive:debian.tar -v   # cache hits shown\n"
      "  dslim deps ./app --format json | jq '.missing'\n"
      "\n"
      "Formats: tree (default; each library once, with the rule that found it),\n"
      "list (every in-root path the image needs, symlinks included, one a line),\n"
      "json (the whole graph). Exits 2 if a library cannot be found, after naming\n"
      "who needs it and every directory searched.\n"
      "\n"
      "Symbols: every object's DT_VERNEED versions must be defined by the library\n"
      "the loader found (a program built against glibc 2.34+ needs GLIBC_2.34, which\n"
      "an older source lacks), and every non-weak undefined symbol must be defined\n"
      "by some object of the closure. A missing version, or a symbol a program\n"
      "(or, under musl, any object) needs, is an error (exit 2); a symbol a glibc\n"
      "library lacks is a warning (it is bound lazily, maybe never).");
  add_program_options(cmd, opt->apps, opt->picks, opt->source,
                      "Program(s) on this machine to resolve");
  cmd->add_option("--format", opt->format, "tree, list or json")
      ->check(CLI::IsMember({"tree", "list", "json"}));
  cmd->add_option("--env", opt->env, "K=V as the image would set it (LD_LIBRARY_PATH counts)")
      ->type_name("K=V");
  cmd->callback([opt, &exit_code] { exit_code = run_deps(*opt); });
}

}  // namespace dslim::cli
