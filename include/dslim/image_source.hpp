#pragma once
// An image as a source root (`--from oci:…`, `oci-archive:…`,
// `docker-archive:…`): its layers merged into a LayeredRootFs, and its config.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dslim/layered_rootfs.hpp"
#include "dslim/oci.hpp"
#include "dslim/reference.hpp"
#include "dslim/transport_options.hpp"

namespace dslim {

struct SourceOptions {
  std::optional<oci::Platform> platform;  // from an index; linux/amd64 when unset
  // Where indexed layers are kept between runs (a cache directory), or
  // nullptr for temporary files.
  std::shared_ptr<rootfs::LayerStore> layers;
  rootfs::LayerObserver observer;  // told how each layer was obtained
  rootfs::LayeredLimits limits;    // bounds on the layers' inflated size and entries
  int max_symlink_hops = rootfs::kMaxSymlinkHops;
  TransportOptions transport;  // registries: TLS, credentials, the blob cache
};

struct ImageSource {
  std::unique_ptr<rootfs::LayeredRootFs> fs;
  oci::ImageConfig config;  // Env (LD_LIBRARY_PATH), platform, what `dslim image` keeps
  uint64_t size = 0;        // manifest, config and compressed layers: as pulled
  std::string digest;       // the manifest's (for an index, the platform's image)
};

// Loads the image (every blob checked against its digest) and merges its
// layers. Throws dslim::Error naming the reference, and the layer and entry
// at fault.
ImageSource open_image_source(const Reference& ref, const SourceOptions& options = {});

}  // namespace dslim
