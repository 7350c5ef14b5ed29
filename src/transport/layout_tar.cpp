// An OCI layout as tar entries, for oci-archive and docker-archive.
#include <map>

#include "oci_layout.hpp"
#include "sinks.hpp"
#include "tar_writer.hpp"

namespace dslim {

void write_layout_tar(int fd, const std::string& name, const std::vector<const Blob*>& blobs,
                      const oci::Index& index, const std::map<std::string, std::string>& extra,
                      int64_t epoch) {
  // Sorted by path, like layers, so the archive bytes depend only on the image.
  std::map<std::string, std::string_view> files;
  for (const Blob* b : blobs) files[blob_path(b->digest())] = b->bytes();
  std::string index_json = oci::to_json(index);
  files[kIndexFile] = index_json;
  files[kOciLayoutFile] = kOciLayoutJson;
  for (const auto& [path, bytes] : extra) files[path] = bytes;

  TarWriter tar(fd, name, epoch);
  tar.add_dir("blobs/");
  tar.add_dir("blobs/sha256/");
  for (const auto& [path, bytes] : files) tar.add_file(path, bytes);
  tar.close();
}

}  // namespace dslim
