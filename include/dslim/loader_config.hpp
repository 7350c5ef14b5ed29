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
// As in ldconfig's parse_conf/add_dir_1: one directory per line (a legacy
// "=TYPE" suffix is dropped), `hwcap` lines are ignored, relative directories
// are skipped; results are normalized, first occurrence kept. Unreadable
// files (a directory, a symlink loop) are skipped as ldconfig skips them.
std::vector<std::string> read_ld_so_conf(const rootfs::RootFs& fs,
                                         const std::string& path = "/etc/ld.so.conf");

// Names in /etc/ld.so.preload (whitespace or ':' separated, '#' comments).
std::vector<std::string> read_ld_so_preload(const rootfs::RootFs& fs);

// Splits a musl path file (':' or newline separated) into directories.
std::vector<std::string> parse_musl_path(const std::string& text);

// Splits LD_LIBRARY_PATH as glibc does (dl-load.c _dl_init_paths ->
// fillin_rpath with ":;"): on ':' and ';'; an empty element means the current
// directory and is kept as "."; trailing slashes are dropped and repeats
// removed, first occurrence kept. An empty string gives no elements.
std::vector<std::string> split_search_path(const std::string& text);

// The same for DT_RPATH / DT_RUNPATH, which glibc (decompose_rpath) splits on
// ':' only: a ';' there is part of a directory name.
std::vector<std::string> split_rpath(const std::string& text);

}  // namespace dslim::resolve
