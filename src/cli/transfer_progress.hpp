#pragma once
// Registry options from the command line, with -v logging and per-blob
// progress: a live line with bytes and rate on a terminal, one summary line
// per blob otherwise (or when CI is set).
#include <CLI/CLI.hpp>

#include "dslim/registry_client.hpp"

namespace dslim::cli {

struct RegistryFlags {
  bool tls_verify = true;
  std::string cert_dir;
  std::string creds;
};

// --tls-verify, --cert-dir, --creds.
void add_registry_options(CLI::App* cmd, RegistryFlags& flags);

registry::RegistryOptions registry_options(const RegistryFlags& flags);

}  // namespace dslim::cli
