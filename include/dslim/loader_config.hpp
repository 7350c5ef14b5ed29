#pragma once
// The loaders' configuration files inside an image root.
#include <string>
#include <vector>

#include "dslim/rootfs.hpp"

namespace dslim::resolve {

// Directories listed by /etc/ld.so.conf (or `path`), following `include`
// lines with one or more globs, relative to the including file's directory,
// sorted. `#` starts a comment. Missing files give an empty list; include
// cycles are cut. ldconfig reads this file, the loader does not: the resolver
// uses it only to explain a miss (a stale or absent ld.so.cache).
std::vector<std::string> read_ld_so_conf(const rootfs::RootFs& fs,
                                         const std::string& path = "/etc/ld.so.conf");

// Names in /etc/ld.so.preload (whitespace or ':' separated, '#' comments).
std::vector<std::string> read_ld_so_preload(const rootfs::RootFs& fs);

// Splits a musl path file (':' or newline separated) into directories.
std::vector<std::string> parse_musl_path(const std::string& text);

// Splits a search path string (LD_LIBRARY_PATH, RPATH, RUNPATH) on ':' and ';'
// (glibc accepts both); empty elements mean the current directory and are
// kept as ".".
std::vector<std::string> split_search_path(const std::string& text);

}  // namespace dslim::resolve
