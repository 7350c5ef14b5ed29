// dslim: the smallest container image that runs a binary.
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/commands.hpp"
#include "cli/version.hpp"
#include "dslim/error.hpp"

namespace {

// On this machine class (a paravirtualised VM) every first touch of a page
// is a fault costing ~15 us, and a run's heap takes a hundred or more of
// them one by one. So the heap grows in 768 KiB steps and never shrinks
// below that, and once it has grown it is made present in one call (~2 us a
// page). The step is about what `deps` of ffmpeg touches: 2 MiB cost it
// ~0.8 ms more, 512 KiB left it 16 faults.
void prefault_heap() {
  constexpr size_t kStep = 768 << 10;
  mallopt(M_TOP_PAD, kStep);
  mallopt(M_TRIM_THRESHOLD, 2 * kStep);
  void* probe = std::malloc(1);
  // Small blocks (under the mmap threshold) until brk moves, by kStep.
  void* top = ::sbrk(0);
  void* held[64];
  size_t n = 0;
  while (n < 64 && ::sbrk(0) == top) held[n++] = std::malloc(64 << 10);
  auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  auto from = reinterpret_cast<uintptr_t>(probe) & ~(page - 1);
  auto to = reinterpret_cast<uintptr_t>(::sbrk(0));
  if (to > from) (void)::madvise(reinterpret_cast<void*>(from), to - from, MADV_POPULATE_WRITE);
  for (size_t i = 0; i < n; ++i) std::free(held[i]);
  std::free(probe);
}

}  // namespace

int main(int argc, char** argv) {
  prefault_heap();
  using namespace dslim::cli;
  CLI::App app{
      "dslim: turn a built binary into the smallest container image that runs it.\n"
      "Exit codes: 0 done, 1 usage, 2 bad input, 3 over --max-size, 4 registry or network.",
      "dslim"};
  app.require_subcommand(1);
  app.set_version_flag("--version", version_text);
  GlobalOptions global;
  app.add_flag("-v,--verbose", global.verbose, "Say more on stderr (repeat for more)");
  app.add_flag("-q,--quiet", global.quiet, "Only errors on stderr");
  app.parse_complete_callback([&] { setup_logging(global); });
  // -v and -q anywhere, as docker, skopeo and crane take them: the subcommands
  // (made below, so they inherit this) pass what they do not know up here.
  app.fallthrough();

  int exit_code = 0;
  add_binary_command(app, global, exit_code);
  add_image_command(app, global, exit_code);
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
