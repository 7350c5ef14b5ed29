// dslim-lief.so: LIEF behind the C interface of elf/lief_plugin.hpp. Only
// dslim_lief_read is exported; LIEF and this module's C++ runtime stay inside.
#include "elf/lief_plugin.hpp"

#include <LIEF/ELF.hpp>
#include <LIEF/logging.hpp>

#include <cstdio>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace {

namespace L = LIEF::ELF;

void report(const L::Binary& binary, DslimLiefSink sink, void* context) {
  const L::Header& h = binary.header();
  const uint64_t header =
      static_cast<uint64_t>(h.identity_class()) | static_cast<uint64_t>(h.identity_data()) << 8 |
      static_cast<uint64_t>(h.identity_os_abi()) << 16 |
      static_cast<uint64_t>(h.file_type()) << 24 | static_cast<uint64_t>(h.machine_type()) << 40;
  sink(context, kDslimLiefHeader, 0, nullptr, header);
  if (binary.has_interpreter()) {
    sink(context, kDslimLiefInterpreter, 0, binary.interpreter().c_str(), 0);
  }
  if (binary.has(L::SEGMENT_TYPES::PT_DYNAMIC)) sink(context, kDslimLiefDynamic, 0, nullptr, 0);
  for (const L::DynamicEntry& entry : binary.dynamic_entries()) {
    const auto tag = static_cast<uint64_t>(entry.tag());
    std::string text;
    bool has_text = true;
    if (auto* e = dynamic_cast<const L::DynamicEntryLibrary*>(&entry)) {
      text = e->name();
    } else if (auto* e = dynamic_cast<const L::DynamicSharedObject*>(&entry)) {
      text = e->name();
    } else if (auto* e = dynamic_cast<const L::DynamicEntryRpath*>(&entry)) {
      text = e->rpath();
    } else if (auto* e = dynamic_cast<const L::DynamicEntryRunPath*>(&entry)) {
      text = e->runpath();
    } else {
      has_text = false;
    }
    sink(context, kDslimLiefEntry, tag, has_text ? text.c_str() : nullptr, entry.value());
  }
}

// LIEF's static initialisers, deferred. Linked into the static release
// build, they would build LIEF's tables at every start, as the plugin exists
// to avoid; so that build links a copy of libLIEF.a whose .init_array
// sections are renamed dslim_lief_init (CMakeLists.txt), and they run here,
// in link order as the start-up code would run them, before LIEF's first
// use. In the plugin (no such section) there is nothing to run.
extern "C" {
using Initialiser = void (*)();
extern const Initialiser __start_dslim_lief_init[] __attribute__((weak));
extern const Initialiser __stop_dslim_lief_init[] __attribute__((weak));
}

void run_deferred_initialisers() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (const Initialiser* f = __start_dslim_lief_init; f != __stop_dslim_lief_init; ++f) (*f)();
  });
}

}  // namespace

extern "C" __attribute__((visibility("default"))) int dslim_lief_read(const uint8_t* bytes,
                                                                      size_t size, const char* name,
                                                                      DslimLiefSink sink,
                                                                      void* context, char* error,
                                                                      size_t error_size) {
  std::string message;
  try {
    run_deferred_initialisers();
    // Library code never prints; LIEF's logger would.
    LIEF::Logger::disable();
    const std::vector<uint8_t> data(bytes, bytes + size);
    std::unique_ptr<L::Binary> binary = L::Parser::parse(data, name);
    if (binary) {
      report(*binary, sink, context);
      return 0;
    }
  } catch (const std::exception& e) {
    message = std::string(" (") + e.what() + ")";
  } catch (...) {
  }
  std::snprintf(error, error_size, "LIEF cannot parse the ELF file%s", message.c_str());
  return -1;
}
