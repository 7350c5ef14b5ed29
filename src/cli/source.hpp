#pragma once
// Opening `--from` references and reading the programs to slim, shared by
// the commands that resolve (deps, binary).
#include <memory>
#include <string>
#include <vector>

#include "dslim/resolver.hpp"
#include "dslim/rootfs.hpp"

namespace dslim::cli {

struct Source {
  std::string ref;  // as the user typed it
  std::unique_ptr<rootfs::RootFs> fs;
  std::string host_dir;          // for dir: references, the canonical host directory
  std::vector<std::string> env;  // the image config's Env (K=V)
};

// Opens a `--from` reference. Throws dslim::Error (Usage for an unknown form).
Source open_source(const std::string& ref);

// The value of `key` in a K=V list ("" when unset); later entries win.
std::string env_value(const std::vector<std::string>& env, const std::string& key);

// Programs named on the command line: APPs are files on this machine, picks
// are paths inside the source. `dest_dir` is where APPs will be placed in the
// image (their $ORIGIN) unless they already lie inside a dir: source.
std::vector<resolve::Program> load_programs(const Source& source,
                                            const std::vector<std::string>& apps,
                                            const std::vector<std::string>& picks,
                                            const std::string& dest_dir, elf::Depth depth);

}  // namespace dslim::cli
