#pragma once
// Reading a layer's tar back (for inspect and tests): its entries as stored,
// through libarchive, gzip/zstd/plain detected from the bytes. Nothing is
// extracted anywhere.
#include <cstdint>
#include <string>
#include <vector>

#include "dslim/blob.hpp"
#include "dslim/byte_reader.hpp"

namespace dslim {

enum class LayerEntryType { File, Dir, Symlink, Hardlink, Other };

// "file", "dir", "symlink", "hardlink", "other".
const char* to_string(LayerEntryType type);

// A tar entry name as an absolute path: "./usr/bin/" -> "/usr/bin", "." -> "/".
std::string clean_tar_path(const char* raw);

struct LayerFile {
  std::string path;  // absolute ("/usr/bin/app"), as in the tar after "./" and "/" stripping
  LayerEntryType type = LayerEntryType::File;
  uint64_t size = 0;  // bytes of a regular file, 0 otherwise
  uint32_t mode = 0;  // permission bits
  uint32_t uid = 0;
  uint32_t gid = 0;
  int64_t mtime = 0;
  std::string link_target;  // symlink or hardlink target
};

// Entries in tar order. Throws dslim::Error naming `what` for a corrupt layer.
std::vector<LayerFile> list_layer_files(std::string_view layer_bytes, const std::string& what);
// The same, streamed: a layer is never held whole.
std::vector<LayerFile> list_layer_files(ByteReader& layer, const std::string& what);

}  // namespace dslim
