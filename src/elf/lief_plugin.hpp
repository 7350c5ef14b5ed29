#pragma once
// The interface of dslim-lief.so, the LIEF parser loaded on first use
// (lief_reader.cpp). LIEF 0.9's static initialisers build large tables (PE
// ordinal names, ~277 page faults, ~6 ms here) at every start of any program
// linked with it, though only `dslim binary` parses with LIEF; so LIEF lives
// in a module of its own. The interface is C: the module has its own copy of
// the C++ runtime. The static release build (DSLIM_STATIC) links LIEF in and
// defers those initialisers to the first parse instead (lief/lief_plugin.cpp).
#include <cstddef>
#include <cstdint>

extern "C" {

enum DslimLiefField {
  kDslimLiefHeader,       // value: class | data << 8 | osabi << 16 | type << 24 | machine << 40
  kDslimLiefInterpreter,  // text: PT_INTERP
  kDslimLiefDynamic,      // a PT_DYNAMIC segment is present
  kDslimLiefEntry,        // a dynamic entry: tag, and its string (text) or value
};

// Receives the parsed fields one by one, in file order.
using DslimLiefSink = void (*)(void* context, DslimLiefField field, uint64_t tag, const char* text,
                               uint64_t value);

// Parses `size` bytes named `name` with LIEF. Returns 0, or -1 with a
// NUL-terminated message in `error` (never throws).
using DslimLiefRead = int (*)(const uint8_t* bytes, size_t size, const char* name,
                              DslimLiefSink sink, void* context, char* error, size_t error_size);

// The module's one function (lief/lief_plugin.cpp). The static release
// build (DSLIM_STATIC) links it in and calls it directly: a static program
// has no loader to load a module with.
int dslim_lief_read(const uint8_t* bytes, size_t size, const char* name, DslimLiefSink sink,
                    void* context, char* error, size_t error_size);
}

namespace dslim::elf::detail {
constexpr const char* kLiefModule = "dslim-lief.so";
constexpr const char* kLiefReadSymbol = "dslim_lief_read";
}  // namespace dslim::elf::detail
