#pragma once
// LayeredRootFs: the merged, read-only view of an image's layers as the
// container sees them (DESIGN.md §4). Each layer is streamed once: its
// decompressed tar goes to an unlinked temporary file that is mmap'd, and
// only the index (paths, stats, symlink targets, offsets into those tars)
// stays in memory. Nothing is ever extracted by the image's own paths.
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dslim/rootfs.hpp"

namespace dslim::rootfs {

// Bounds that turn a hostile or broken layer into a clear error instead of a
// full disk or an exhausted memory.
inline constexpr uint64_t kMaxLayerInflatedSize = 8ull << 30;  // bytes of one layer's tar
inline constexpr uint64_t kMaxLayeredEntries = 4'000'000;      // tar entries over all layers

struct LayeredLimits {
  uint64_t max_layer_inflated = kMaxLayerInflatedSize;
  uint64_t max_entries = kMaxLayeredEntries;
};

struct LayerInput {
  std::string digest;      // names the layer in messages ("sha256:…")
  std::string_view bytes;  // gzip, zstd or plain tar (detected from the bytes); read once
};

class LayeredRootFs : public RootFs {
 public:
  // Applies `layers` bottom first: later entries replace earlier ones,
  // ".wh.NAME" deletes NAME, ".wh..wh..opq" hides the lower children of its
  // directory, hardlinks share their target's contents. Throws dslim::Error
  // naming `what`, the layer and the entry at fault (a path escaping the
  // root, a whiteout of "/", a corrupt or truncated stream, a bound hit).
  LayeredRootFs(std::string what, const std::vector<LayerInput>& layers,
                const LayeredLimits& limits = {});
  ~LayeredRootFs() override;
  LayeredRootFs(const LayeredRootFs&) = delete;
  LayeredRootFs& operator=(const LayeredRootFs&) = delete;

  std::string describe() const override { return what_; }
  std::optional<Stat> lstat(const std::string& path) const override;
  std::string readlink(const std::string& path) const override;
  std::vector<std::string> list(const std::string& path) const override;
  std::unique_ptr<FileView> open(const std::string& path) const override;

  // One layer's decompressed tar, mmap'd (shared with the views handed out).
  struct LayerTar;

 private:
  struct Node {
    Stat stat;
    std::string link;             // symlink target, as stored
    uint32_t tar = 0;             // regular file: index into tars_
    uint64_t offset = 0;          // regular file: where its bytes start in that tar
    std::set<std::string> names;  // directory: its children
  };
  struct Builder;
  const Node* find(const std::string& path) const;
  const Node& need(const std::string& path) const;

  std::string what_;
  std::vector<std::shared_ptr<const LayerTar>> tars_;
  std::unordered_map<std::string, Node> nodes_;  // by physical path
};

}  // namespace dslim::rootfs
