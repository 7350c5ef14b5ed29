#pragma once
// What reading or writing an image may need beyond its reference: how to
// reach a registry, and the blob cache pulled blobs go to.
#include <memory>

#include "dslim/blob_cache.hpp"
#include "dslim/registry_client.hpp"

namespace dslim {

struct TransportOptions {
  registry::RegistryOptions registry;  // TLS, credentials, retries, log and progress
  // Pulled blobs are kept here by digest; nullptr: unlinked temporary files.
  std::shared_ptr<BlobCache> cache;
};

}  // namespace dslim
