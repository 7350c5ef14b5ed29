#pragma once
// What dslim needs to know about an ELF object: the fields the dynamic loader
// reads. Two readers fill the same struct: a light one over a byte span (for the
// resolver's walk over every candidate library, which must not parse whole
// files) and LIEF (for the user's own binaries and deeper checks).
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace dslim::elf {

enum class ElfClass : uint8_t { Elf32 = 1, Elf64 = 2 };

// e_type values dslim cares about.
enum class ObjectType : uint16_t { Rel = 1, Exec = 2, Dyn = 3, Core = 4 };

constexpr uint64_t kDf1NoDefLib = 0x800;  // DF_1_NODEFLIB

// Where the dynamic section puts the symbol and version tables, as file
// offsets (through the PT_LOAD holding each address): 0 when the dynamic
// section names no such table, kUnmapped when it names an address no PT_LOAD
// holds. Counts and sizes are the tags' values. The light reader fills this
// for free (it scans the dynamic section anyway); read_symbol_table uses it.
struct DynamicTables {
  static constexpr uint64_t kUnmapped = ~uint64_t{0};
  uint64_t strtab = 0, strsz = 0;
  uint64_t symtab = 0, syment = 0;
  uint64_t hash = 0, gnu_hash = 0;  // DT_HASH, DT_GNU_HASH: how many symbols there are
  uint64_t versym = 0;
  uint64_t verdef = 0, verdefnum = 0;
  uint64_t verneed = 0, verneednum = 0;
};

struct ElfInfo {
  ElfClass elf_class = ElfClass::Elf64;
  bool little_endian = true;
  uint16_t machine = 0;  // e_machine (EM_X86_64 = 62, EM_AARCH64 = 183, ...)
  uint8_t osabi = 0;
  ObjectType type = ObjectType::Exec;
  bool has_dynamic = false;                // PT_DYNAMIC present
  std::optional<std::string> interpreter;  // PT_INTERP
  std::vector<std::string> needed;         // DT_NEEDED, in order
  std::optional<std::string> soname;       // DT_SONAME
  std::optional<std::string> rpath;        // DT_RPATH, raw (':'-separated)
  std::optional<std::string> runpath;      // DT_RUNPATH, raw
  uint64_t flags_1 = 0;                    // DT_FLAGS_1
  DynamicTables tables;                    // filled by the light reader only

  bool nodeflib() const { return (flags_1 & kDf1NoDefLib) != 0; }
  // Two objects can be loaded together only if class and machine agree.
  bool compatible_with(const ElfInfo& other) const {
    return elf_class == other.elf_class && machine == other.machine &&
           little_endian == other.little_endian;
  }
};

// True when the bytes start with the ELF magic.
bool has_elf_magic(std::span<const std::byte> bytes);

// For a `#!` script, the interpreter path from its first line ("/bin/sh" for
// "#!/bin/sh -e"; empty when the line names none); nullopt for anything else.
std::optional<std::string> script_interpreter(std::span<const std::byte> bytes);

// Light reader: ELF header, program headers, PT_INTERP, PT_DYNAMIC and the
// dynamic string table, nothing else. Checks that every structure it touches
// lies inside `bytes` (a truncated file is an error, never fewer entries).
// `name` is only used in error messages. Throws dslim::Error.
ElfInfo read_elf(std::span<const std::byte> bytes, const std::string& name);

// Fills `out` with the file's bytes from `offset`; throws dslim::Error when it cannot.
using ReadAt = std::function<void(uint64_t offset, std::span<std::byte> out)>;

// The same over a file of `size` bytes read piecewise: only the few windows the
// loader reads are fetched (a few KiB of a library of many MiB).
ElfInfo read_elf(uint64_t size, const ReadAt& read_at, const std::string& name);

// Calls `use` with a file on this machine read piecewise (its size and a
// ReadAt over it). Throws dslim::Error naming `path` when it cannot be opened
// or read.
void with_host_file(const std::string& path,
                    const std::function<void(uint64_t size, const ReadAt& read_at)>& use);

// How much of a file on this machine to read: the loader's view only (the
// light reader: `deps` stays as fast as `ld.so --list`), or that plus a full
// LIEF parse cross-checked against it (LIEF 0.9 parses a 4 MB binary in
// ~200 ms, so it is kept for the deeper checks of `binary`).
enum class Depth { Headers, Full };

// Reads a file on this machine. With Depth::Full, LIEF parses the same bytes
// after the light reader's bounds checks (LIEF 0.9 silently accepts truncated
// files) and both must agree. Throws dslim::Error naming `path` for a missing,
// non-ELF, script or truncated file.
ElfInfo read_elf_file(const std::string& path, Depth depth = Depth::Full);

// "amd64", "arm64", "386", "ppc64le", ... as OCI's `architecture` field spells
// it (Go's GOARCH, not uname's "x86_64"), plus the `variant` where OCI has one
// (arm: "v7"); empty architecture when OCI has no name for the machine.
struct Platform {
  std::string os = "linux";
  std::string architecture;
  std::string variant;
};
Platform platform_of(const ElfInfo& info);

// Machine name for messages ("x86-64", "AArch64", "EM_1234").
std::string machine_name(uint16_t machine);

}  // namespace dslim::elf
