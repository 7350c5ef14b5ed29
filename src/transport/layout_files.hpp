#pragma once
// The files of a stored image (an OCI layout directory, or the members of an
// oci-archive / docker-archive tar) as blob contents that stream from their
// place on disk: a layer is never read into memory to be merged.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "dslim/blob.hpp"

namespace dslim {

// Bound for the JSON files of an image (index, manifest, config).
inline constexpr uint64_t kMaxJsonBlob = 16 << 20;

class LayoutFiles {
 public:
  virtual ~LayoutFiles() = default;
  // The file at a relative path ("index.json", "blobs/sha256/HEX"), or
  // nullptr when absent.
  virtual std::shared_ptr<const BlobContent> file(const std::string& path) const = 0;
  // A small file's bytes (at most kMaxJsonBlob); nullopt when absent.
  std::optional<std::string> read(const std::string& path, const std::string& what) const;
};

// A regular file on this machine as blob content read in place; nullptr when
// it is absent (or not a regular file).
std::shared_ptr<const BlobContent> file_content(const std::string& path);

// Content written by `fill` into an unlinked temporary file (scratch_file),
// read back in place; nothing is left on disk once it is dropped.
std::shared_ptr<const BlobContent> scratch_content(const std::function<void(int fd)>& fill,
                                                   const std::string& what);

// An OCI layout directory. Paths are fixed names or blobs/sha256/<validated
// hex>, so nothing outside DIR is read.
std::unique_ptr<LayoutFiles> directory_files(const std::string& dir);

// The regular files of a tar archive, by cleaned relative path, read in
// place (an archive compressed as a whole is first inflated into an
// unlinked temporary file). Throws dslim::Error naming `file` when it
// cannot be read or is not a tar.
std::unique_ptr<LayoutFiles> archive_files(const std::string& file);

}  // namespace dslim
