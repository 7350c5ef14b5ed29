// write_image(): dispatch on the transport, and one error line naming the
// destination whatever went wrong below.
#include "dslim/sink.hpp"

#include <filesystem>

#include "dslim/error.hpp"
#include "sinks.hpp"

namespace dslim {

std::filesystem::path prepare_destination(const std::string& path) {
  namespace fs = std::filesystem;
  fs::path p = fs::absolute(path).lexically_normal();
  if (!p.has_filename()) p = p.parent_path();  // "out/" -> "out"
  if (p == p.root_path()) throw Error("cannot write to " + path, ErrorKind::Usage);
  std::error_code ec;
  fs::create_directories(p.parent_path(), ec);
  if (ec) throw Error("cannot create " + p.parent_path().string() + ": " + ec.message());
  fs::path parent = fs::canonical(p.parent_path(), ec);
  if (ec) throw Error("cannot resolve " + p.parent_path().string() + ": " + ec.message());
  return parent / p.filename();
}

namespace {

// Runs a sink; whatever went wrong below is one error naming the destination.
template <class F>
std::string naming(const Reference& dest, F&& write) {
  try {
    return write();
  } catch (const Error& e) {
    throw Error(dest.str() + ": " + e.what(), e.kind());
  } catch (const std::exception& e) {
    throw Error(dest.str() + ": " + e.what());
  }
}

}  // namespace

bool holds_referrers(Transport transport) {
  return transport == Transport::Oci || transport == Transport::OciArchive ||
         transport == Transport::Docker;
}

bool holds_index(Transport transport) {
  return holds_referrers(transport);
}

std::string write_image(const Image& image, const Reference& dest, const TransportOptions& options,
                        const std::vector<Referrer>& referrers) {
  return naming(dest, [&]() -> std::string {
    if (!referrers.empty() && !holds_referrers(dest.transport))
      throw Error(
          "this destination cannot hold an SBOM attached to the image (referrers); "
          "write one to oci:, oci-archive: or docker://",
          ErrorKind::Usage);
    switch (dest.transport) {
      case Transport::Oci:
        if (!dest.digest.empty())
          throw Error("an image is written under a tag, not a digest", ErrorKind::Usage);
        write_oci_dir(publication(image, referrers), dest);
        break;
      case Transport::OciArchive:
        write_oci_archive(publication(image, referrers), dest);
        break;
      case Transport::DockerArchive:
        write_docker_archive(image, dest);
        break;
      case Transport::Dir:
        write_rootfs_dir(image, dest);
        break;
      case Transport::Docker:
        return write_registry(publication(image, referrers), dest, options);
    }
    return image.manifest_blob.digest();
  });
}

std::string write_index(const ImageIndex& index, const Reference& dest,
                        const TransportOptions& options, const std::vector<Referrer>& referrers) {
  return naming(dest, [&]() -> std::string {
    if (!holds_index(dest.transport))
      throw Error(
          "this destination holds one image, not an index over several platforms; write to "
          "oci:, oci-archive: or docker://",
          ErrorKind::Usage);
    if (!dest.digest.empty())
      throw Error("an image is written under a tag, not a digest", ErrorKind::Usage);
    if (dest.transport == Transport::Docker)
      return write_registry(publication(index, referrers), dest, options);
    if (dest.transport == Transport::Oci)
      write_oci_dir(publication(index, referrers), dest);
    else
      write_oci_archive(publication(index, referrers), dest);
    return index.index_blob.digest();
  });
}

}  // namespace dslim
