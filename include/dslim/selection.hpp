#pragma once
// Selection: what goes into the image besides the closure the resolver found,
// as paths of one root: `--include` trees and the presets for what programs
// need but no ELF header names (DESIGN.md §1).
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "dslim/accounts.hpp"
#include "dslim/resolver.hpp"
#include "dslim/rootfs.hpp"

namespace dslim::resolve {

// Upper bound on entries one --include or preset tree may add.
constexpr size_t kMaxTreeEntries = 200000;

// Adds `path` as the image needs it to `out`: every symlink on the way, the
// entry itself and, for a directory, everything below it (symlinks inside
// it are followed to their targets too). Throws dslim::Error when absent.
void select_tree(const rootfs::RootFs& fs, const std::string& path, std::set<std::string>& out);

// Adds `path` and the symlinks on the way to it, without a directory's contents.
void select_entry(const rootfs::RootFs& fs, const std::string& path, std::set<std::string>& out);

enum class Preset { Certs, Tzdata, Passwd, Nss, Tmp, Shell, Gconv };
const char* to_string(Preset preset);

// "certs,tzdata" -> presets; throws dslim::Error (Usage) naming an unknown one.
std::vector<Preset> parse_presets(const std::vector<std::string>& names);

struct PresetPlan {
  std::set<std::string> paths;        // taken from the root (after generated files are added)
  std::vector<std::string> env;       // e.g. SSL_CERT_FILE=...
  std::vector<std::string> needed;    // libraries loaded at run time (NSS modules)
  std::vector<std::string> programs;  // programs to resolve from the root (/bin/sh)
  std::map<std::string, rootfs::UserIds> owners;  // path -> owner other than root
  std::vector<std::string> warnings;              // inferred presets the source cannot satisfy
};

// What the presets need to know of the programs' libc.
struct PresetContext {
  LoaderKind loader = LoaderKind::Glibc;
  std::string libc_dir;      // in-root directory of glibc's libc.so.6, "" when none
  bool nss_in_libc = false;  // glibc 2.34+: the files and dns modules are built in
  // passwd takes the source's /etc/passwd and /etc/group as they are (`dslim
  // image`: the image's own accounts) rather than generating them.
  bool source_accounts = false;
};

// Applies presets: generated files (passwd, group, nsswitch.conf, hosts,
// /tmp) are added to `fs`; files the source must provide are looked up.
// Their absence is an error that names the preset and what is missing for
// presets the user asked for (`required`), a warning for inferred ones.
PresetPlan apply_presets(const std::vector<Preset>& presets, rootfs::OverlayRootFs& fs,
                         const PresetContext& context, bool required = true);

}  // namespace dslim::resolve
