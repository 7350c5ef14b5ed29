// For scripts/bench-probe (a benchmark, not a test): the same program run in the probe sandbox
// with and without the tracer, taking turns, RUNS times each. Prints the median seconds of
// each, the median set-up time of the sandbox and the accesses one traced run recorded.
// Usage: bench_probe_overhead ROOT RUNS PROGRAM [ARGS...]
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "dslim/probe.hpp"

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s ROOT RUNS PROGRAM [ARGS...]\n", argv[0]);
    return 2;
  }
  try {
    dslim::probe::ProbeSpec spec;
    spec.root = argv[1];
    const int runs = std::max(1, std::atoi(argv[2]));
    spec.argv.assign(argv + 3, argv + argc);
    spec.env = {"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"};
    spec.stdout_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    std::vector<double> traced, untraced, setup;
    size_t accesses = 0;
    for (int i = 0; i < runs; ++i) {
      for (bool trace : {true, false}) {
        spec.trace = trace;
        const auto r = dslim::probe::run_probe(spec);
        if (!r.started || r.exit_code != 0) {
          std::fprintf(stderr, "the program failed in the sandbox: %s (exit %d)\n", r.error.c_str(),
                       r.exit_code);
          return 1;
        }
        (trace ? traced : untraced).push_back(r.seconds);
        setup.push_back(r.setup_seconds);
        if (trace) accesses = r.accesses.size();
      }
    }
    std::printf("traced %.4f\nuntraced %.4f\nsetup %.4f\naccesses %zu\n", median(traced),
                median(untraced), median(setup), accesses);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_probe_overhead: %s\n", e.what());
    return 1;
  }
  return 0;
}
