#pragma once
// MergedView: an image's layers merged into one flat, sorted table, the form
// LayeredRootFs answers from and the layer cache keeps per stack of layers.
// A warm run maps the table and binary-searches it: no parse, no allocation
// per entry (merging ~30k entries into hash maps cost a warm run ~30 ms).
//
// Bytes: "dslimMRG" | u32 version | u32 layer count | u64 record count |
// u64 strings size | u32 CRC-32 of everything after the 40-byte header |
// u32 0, then the records (72 bytes each, sorted by parent directory, then
// name), then the strings they point into. The CRC catches a damaged cache
// file; offsets are bounds-checked when the bytes are opened.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dslim/rootfs.hpp"

namespace dslim::rootfs {

struct MergedEntry {
  std::string_view path;  // physical, normalized
  Stat stat;
  std::string_view link;  // symlink target as stored
  // Regular files: where the bytes are (layer number, entry in its index,
  // offset in its tar, CRC-32).
  uint32_t layer = 0;
  uint32_t entry = 0;
  uint64_t offset = 0;
  uint32_t crc = 0;
};

std::string serialize_merged(const std::vector<MergedEntry>& entries, uint32_t layers);

class MergedView {
 public:
  // Over bytes it owns, or that `hold` keeps alive (a mapped cache file).
  // Throws dslim::Error naming `what` when they are malformed or damaged.
  MergedView(std::string bytes, const std::string& what);
  MergedView(std::unique_ptr<FileView> hold, const std::string& what);

  uint32_t layers() const { return layers_; }
  size_t size() const { return count_; }
  std::optional<MergedEntry> find(std::string_view path) const;
  std::vector<std::string> children(std::string_view dir) const;  // sorted

 private:
  void open(const std::string& what);
  MergedEntry at(size_t i) const;

  std::string owned_;
  std::unique_ptr<FileView> hold_;
  std::string_view bytes_;
  uint32_t layers_ = 0;
  size_t count_ = 0;
  const char* records_ = nullptr;
  std::string_view strings_;
};

}  // namespace dslim::rootfs
