// dslim: the smallest container image that runs a binary.
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/commands.hpp"
#include "dslim/error.hpp"

int main(int argc, char** argv) {
  using namespace dslim::cli;
  CLI::App app{
      "dslim: turn a built binary into the smallest container image that runs it.\n"
      "Exit codes: 0 done, 1 usage, 2 bad input, 3 over --max-size, 4 registry or network.",
      "dslim"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "dslim 0.1.0");
  GlobalOptions global;
  app.add_flag("-v,--verbose", global.verbose, "Say more on stderr (repeat for more)");
  app.add_flag("-q,--quiet", global.quiet, "Only errors on stderr");
  app.parse_complete_callback([&] { setup_logging(global); });

  int exit_code = 0;
  add_binary_command(app, global, exit_code);
  add_deps_command(app, global, exit_code);
  add_inspect_command(app, global, exit_code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 1;
  } catch (const dslim::Error& e) {
    std::cout.flush();
    std::fprintf(stderr, "dslim: %s\n", e.what());
    return static_cast<int>(e.kind());
  } catch (const std::exception& e) {
    std::cout.flush();
    std::fprintf(stderr, "dslim: %s\n", e.what());
    return 2;
  }
  return exit_code;
}
