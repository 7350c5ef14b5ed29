#pragma once
// LayeredRootFs: the merged, read-only view of an image's layers as the
// container sees them (DESIGN.md §4). Each layer blob is streamed once: it is
// inflated, its tar written to a layer file (a cache entry, or an unlinked
// temporary file) and indexed on the way. Only the index (paths, stats,
// symlink targets, offsets into those files) stays in memory; nothing is
// ever extracted by the image's own paths.
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dslim/byte_reader.hpp"
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
  std::string digest;  // names the layer in messages ("sha256:…")
  // The config's sha256 of the tar: the cache key, not checked (an entry
  // serves only the blob it was made from); may be empty.
  std::string diff_id;
  // The blob's bytes (gzip, zstd or plain tar, detected from the bytes),
  // checked against `digest` by the reader itself.
  std::function<std::unique_ptr<ByteReader>()> open;
};

class LayerFile;
struct LayerIndex;
class MergedView;
struct MergedEntry;

// One layer, indexed: what a LayerStore hands out.
struct IndexedLayer {
  std::shared_ptr<const LayerIndex> index;
  std::shared_ptr<const LayerFile> file;
  bool reused = false;    // found in the store, not built by this run
  bool repaired = false;  // the store's entry was damaged and has been rebuilt
  std::string location;   // the cache entry's path, or "" for a temporary file
};

// Where indexed layers live. Both stores build a missing layer by streaming
// its blob once; a directory store keeps them by diff_id for later runs.
class LayerStore {
 public:
  virtual ~LayerStore() = default;
  // The layer, from the store or built now. Throws dslim::Error prefixed
  // with `where`; `entries` counts tar entries over the whole image.
  virtual IndexedLayer get(const LayerInput& in, const LayeredLimits& limits,
                           std::atomic<uint64_t>& entries, const std::string& where) = 0;
  // Drops a damaged entry for `in` and builds it again.
  virtual IndexedLayer rebuild(const LayerInput& in, const LayeredLimits& limits,
                               const std::string& where) = 0;

  // A warm run skips the indexes: a stack of layers merged by an earlier
  // run is kept whole, named by `key` ("sha256:…" over the diff_ids).
  virtual std::unique_ptr<FileView> find_merged(const std::string& key) {
    (void)key;
    return nullptr;
  }
  virtual void keep_merged(const std::string& key, std::string_view bytes) {
    (void)key;
    (void)bytes;
  }
  // The layer's file with its header checked, its index unread; null when
  // the store has none or a damaged one (get() then rebuilds it).
  virtual std::shared_ptr<const LayerFile> find_file(const LayerInput& in, std::string* location) {
    (void)in;
    (void)location;
    return nullptr;
  }
};

// Unlinked temporary files under $TMPDIR (or /tmp): nothing outlives the run.
std::shared_ptr<LayerStore> temporary_layer_store();
// Layer files at DIR/sha256/HEX-of-diff_id, published atomically (a reader
// never sees a partial file; concurrent builders of one layer are both
// fine). An entry whose header, size or index CRC is off is rebuilt, as is
// one made from another blob. Merged views at DIR/merged/sha256/HEX.
// Layers without a diff_id are not kept. Throws when DIR cannot be created.
std::shared_ptr<LayerStore> directory_layer_store(const std::string& dir);

// How a layer was obtained (for -v and tests).
struct LayerReport {
  std::string digest;
  std::string diff_id;
  bool reused = false;    // from the store
  bool repaired = false;  // the store's entry was damaged and has been rebuilt
  std::string location;   // the cache entry, or "" for a temporary file
};
// Called as each layer is obtained (on the constructing thread, in layer
// order) or rebuilt (under a lock): never from two threads at once.
using LayerObserver = std::function<void(const LayerReport&)>;

class LayeredRootFs : public RootFs {
 public:
  // Applies `layers` bottom first (fetched from `store`, several at once):
  // later entries replace earlier ones, ".wh.NAME" deletes NAME,
  // ".wh..wh..opq" hides the lower children of its directory, hardlinks
  // share their target's contents. Throws dslim::Error naming `what`, the
  // layer and the entry at fault (a path escaping the root, a whiteout of
  // "/", a corrupt or truncated stream, a bound hit).
  LayeredRootFs(std::string what, std::vector<LayerInput> layers,
                std::shared_ptr<LayerStore> store = temporary_layer_store(),
                const LayeredLimits& limits = {}, LayerObserver observer = nullptr);
  ~LayeredRootFs() override;
  LayeredRootFs(const LayeredRootFs&) = delete;
  LayeredRootFs& operator=(const LayeredRootFs&) = delete;

  std::string describe() const override { return what_; }
  std::optional<Stat> lstat(const std::string& path) const override;
  std::string readlink(const std::string& path) const override;
  std::vector<std::string> list(const std::string& path) const override;
  // A file whose bytes turn out damaged in the store is rebuilt from its
  // blob once, then read again.
  std::unique_ptr<FileView> open(const std::string& path) const override;
  // "BLOB@OFFSET+SIZE": a layer's tar is fixed by its blob's digest.
  std::optional<std::string> content_id(const std::string& path) const override;

 private:
  struct Layer {
    LayerInput input;
    IndexedLayer indexed;
  };
  struct Builder;
  bool open_merged(const std::string& key);
  std::string flatten(const Builder& builder) const;
  void report(const Layer& layer) const;
  std::optional<MergedEntry> find(const std::string& path) const;
  MergedEntry need(const std::string& path) const;

  std::string what_;
  std::shared_ptr<LayerStore> store_;
  LayeredLimits limits_;
  LayerObserver observer_;
  mutable std::mutex repair_;  // guards layers_[*].indexed during a rebuild
  mutable std::vector<Layer> layers_;
  std::unique_ptr<MergedView> view_;
};

}  // namespace dslim::rootfs
