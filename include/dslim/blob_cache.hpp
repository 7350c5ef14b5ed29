#pragma once
// The blob side of dslim's cache directory: blobs by digest (checked again
// whenever they are read back) and, for warm runs, the compressed layer
// dslim wrote last time from the same entries and contents. Writes are atomic renames, so
// concurrent runs sharing the directory only ever see whole files.
#include <functional>
#include <optional>
#include <string>

#include "dslim/blob.hpp"
#include "dslim/layer_writer.hpp"

namespace dslim {

class BlobCache : public LayerReuse {
 public:
  // DIR/blobs/sha256/HEX and DIR/outputs/; made on first write.
  explicit BlobCache(std::string dir);

  // The blob with `digest`, read and checked; nullopt when it is absent or
  // damaged (a damaged file is removed).
  std::optional<Blob> get(const std::string& digest, const std::string& media_type) const;
  void put(const Blob& blob);
  // Publishes the blob `fill` writes into a fresh file (its descriptor) once
  // fill returns; `fill` checks the bytes against `digest` as they pass (the
  // registry client does) and throws otherwise, which leaves nothing behind.
  Blob store(const std::string& digest, const std::string& media_type,
             const std::function<void(int fd)>& fill);

  std::optional<ReusedLayer> find(const std::string& key, const std::string& variant,
                                  const std::string& media_type) override;
  void keep(const std::string& key, const std::string& variant, const ReusedLayer& layer) override;

 private:
  std::string blob_file(const std::string& digest) const;
  std::string output_file(const std::string& key, const std::string& variant) const;
  std::string dir_;
};

}  // namespace dslim
