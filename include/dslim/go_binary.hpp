#pragma once
// What a Go program links: the names of its functions, from the pclntab (the
// runtime's function table, which survives -ldflags=-s). Go's linker drops
// unreachable functions, so a name being there means its package is really
// used (os/user.lookupUserId: user lookups, so /etc/passwd is needed).
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dslim/elf.hpp"

namespace dslim::elf {

struct GoBinary {
  // "go1.19.8", from the build info (.go.buildinfo); "" when unknown (Go
  // before 1.13 has none; a PIE of Go before 1.18 keeps it behind relocations).
  std::string version;
  // Every function in the pclntab's function table, sorted, unique: the
  // names `go tool nm` prints as T/t, as the runtime spells them (assembly
  // functions without nm's ".abi0"; some Go versions, 1.19 among them, write
  // a generic function's type arguments as "[...]"), less the text symbols
  // that are not Go functions (runtime.text, runtime.etext, a cgo program's C
  // functions). Functions inlined everywhere are not in it: their names stay
  // in the name table only, for tracebacks.
  std::vector<std::string> functions;

  bool has_function_prefix(std::string_view prefix) const {
    const auto it = std::lower_bound(functions.begin(), functions.end(), prefix);
    return it != functions.end() && std::string_view(*it).starts_with(prefix);
  }
  bool has_function(std::string_view name) const {
    return std::binary_search(functions.begin(), functions.end(), name);
  }
};

// nullopt when the file is not a Go binary (not ELF, or ELF without a
// pclntab). The pclntab is found through the .gopclntab section (or
// .data.rel.ro.gopclntab, which Go's linker makes for PIE), else, for a file
// that shows signs of Go (a .go.buildinfo or .note.go.buildid section, or no
// section headers at all), by scanning its PT_LOAD segments for a valid
// pclntab header: an external linker merges the table into .data.rel.ro.
// Formats: Go 1.2-1.15 (magic 0xfffffffb), 1.16-1.17 (0xfffffffa), 1.18-1.19
// (0xfffffff0) and 1.20+ (0xfffffff1), either byte order, 4- or 8-byte
// pointers. Throws dslim::Error naming `name` for a malformed ELF file, and
// for a Go binary whose pclntab or build info is malformed or of an unknown
// format. Reads the ELF tables, the pclntab's header, function table,
// function records and names, and the build info: each in one read.
std::optional<GoBinary> read_go_binary(uint64_t size, const ReadAt& read_at,
                                       const std::string& name);

}  // namespace dslim::elf
