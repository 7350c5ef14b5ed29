#pragma once
// An image as a source root (`--from oci:…`, `oci-archive:…`,
// `docker-archive:…`): its layers merged into a LayeredRootFs, plus what the
// resolver needs from its config.
#include <memory>
#include <string>
#include <vector>

#include "dslim/oci.hpp"
#include "dslim/reference.hpp"
#include "dslim/rootfs.hpp"

namespace dslim {

struct ImageSource {
  std::unique_ptr<rootfs::RootFs> fs;
  std::vector<std::string> env;  // the config's Env ("K=V"), e.g. LD_LIBRARY_PATH
  oci::Platform platform;
};

// Loads the image (every blob checked against its digest; from an index,
// linux/amd64, never an attestation entry) and merges its layers. Throws
// dslim::Error naming the reference, and the layer and entry at fault.
ImageSource open_image_source(const Reference& ref);

}  // namespace dslim
