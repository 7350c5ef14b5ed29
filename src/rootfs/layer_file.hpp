#pragma once
// A layer file holds one indexed layer: a header, the layer's
// decompressed tar (file contents are read in place from it), then the
// index. It is written in one pass while the blob streams in, and is the
// unit of the layer cache; a temporary, unlinked one serves --no-cache.
//
// Header (128 bytes): "dslimLYR" | u32 version | u32 CRC-32 of the index |
// u64 tar size | u64 index size | "sha256:HEX" of the blob the tar was
// inflated from, zero-padded. The tar starts at byte 128. CRCs catch a
// damaged file; trust comes from the blob digest, checked as it streamed in.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "dslim/byte_reader.hpp"
#include "dslim/error.hpp"
#include "dslim/layered_rootfs.hpp"
#include "layer_index.hpp"

namespace dslim::rootfs {

// A layer file whose bytes do not match its index: the file (a cache entry)
// was damaged after it was written.
class CorruptLayerFile : public Error {
 public:
  using Error::Error;
};

class LayerFile {
 public:
  LayerFile(int fd, std::string what);  // takes the descriptor
  ~LayerFile();
  LayerFile(const LayerFile&) = delete;
  LayerFile& operator=(const LayerFile&) = delete;

  // The bytes of a regular file entry, checked against its CRC; throws
  // CorruptLayerFile when they differ.
  std::unique_ptr<FileView> view(const LayerEntry& entry) const;
  int fd() const { return fd_; }
  const std::string& what() const { return what_; }

 private:
  int fd_;
  std::string what_;
};

// Streams the decompressed tar from `tar` into `fd` (an empty file) and
// indexes it on the way: one pass, memory bounded by the index. `diff_id`
// (the config's claim, unchecked) and `blob` (the digest of the blob being
// inflated) are recorded. Throws dslim::Error prefixed with `where` on a
// corrupt tar, an entry escaping the root, or a bound hit (`entries` counts
// over every layer of the image).
LayerIndex write_layer_file(int fd, ByteReader& tar, const std::string& diff_id,
                            const std::string& blob, const LayeredLimits& limits,
                            std::atomic<uint64_t>& entries, const std::string& where);

// Reads back a layer file's index, checking the header, sizes and index
// CRC. Throws CorruptLayerFile naming `what` when anything is off.
LayerIndex read_layer_file(int fd, const std::string& what);
// The header and size alone (a merged view has the index's facts already):
// returns the digest of the blob the file was made from.
std::string check_layer_file(int fd, const std::string& what);

}  // namespace dslim::rootfs
