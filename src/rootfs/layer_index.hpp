#pragma once
// The index of one layer: its tar entries as LayeredRootFs applies them, and
// the binary form kept in a layer file (cache entry). The parser treats its
// input as untrusted: a cache file may be truncated or tampered with.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dslim/rootfs.hpp"

namespace dslim::rootfs {

struct LayerEntry {
  enum Kind : uint8_t { Add, Whiteout, Opaque };
  Kind kind = Add;
  bool hardlink = false;  // Add: `link` is the physical path of the target
  std::string path;       // Add: the entry; Whiteout: what it deletes; Opaque: its directory
  Stat stat;              // Add
  std::string link;       // symlink target as stored, or hardlink target
  uint64_t offset = 0;    // regular file: where its bytes start in the layer's tar
  uint32_t crc = 0;       // regular file: CRC-32 of its bytes, checked when opened
};

struct LayerIndex {
  std::string diff_id;  // the image config's name for the tar (not checked)
  std::string blob;     // the blob inflated into it; kept in the layer file's header
  uint64_t tar_size = 0;
  std::vector<LayerEntry> entries;
};

std::string serialize(const LayerIndex& index);
// Throws dslim::Error naming `what` on anything malformed.
LayerIndex parse_layer_index(std::string_view bytes, const std::string& what);

}  // namespace dslim::rootfs
