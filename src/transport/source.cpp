// load_image(): oci: and oci-archive: through the layout reader; the
// docker-archive reader lives in docker_archive_source.cpp.
#include "dslim/source.hpp"

#include "dslim/error.hpp"
#include "dslim/registry_client.hpp"
#include "layout_files.hpp"
#include "oci_layout.hpp"
#include "source_errors.hpp"

namespace dslim {

Image read_docker_archive(const LayoutFiles& files, const Reference& ref);

Image read_registry(const Reference& ref, const oci::Platform& platform,
                    const TransportOptions& options);

std::optional<oci::Index> read_index(const Reference& ref, const TransportOptions& options) {
  return naming_source(ref, [&]() -> std::optional<oci::Index> {
    switch (ref.transport) {
      case Transport::Oci:
        return read_layout_index(*directory_files(ref.path), ref.tag, ref.digest, ref.str());
      case Transport::OciArchive:
        return read_layout_index(*archive_files(ref.path), ref.tag, "", ref.str());
      case Transport::Docker: {
        registry::RegistryClient client(ref.registry, ref.repository, options.registry);
        auto fetched = client.get_manifest(ref.digest.empty() ? ref.tag : ref.digest);
        if (!oci::is_index_type(fetched.media_type)) return std::nullopt;
        return oci::parse_index(fetched.bytes, ref.str() + " index " + fetched.digest);
      }
      case Transport::DockerArchive:
      case Transport::Dir:
        break;
    }
    return std::nullopt;
  });
}

Image load_image(const Reference& ref, const oci::Platform& platform,
                 const TransportOptions& options) {
  return naming_source(ref, [&]() -> Image {
    switch (ref.transport) {
      case Transport::Oci:
        return read_oci_layout(*directory_files(ref.path), ref.tag, ref.digest, platform,
                               ref.str());
      case Transport::OciArchive:
        return read_oci_layout(*archive_files(ref.path), ref.tag, "", platform, ref.str());
      case Transport::DockerArchive:
        return read_docker_archive(*archive_files(ref.path), ref);
      case Transport::Docker:
        return read_registry(ref, platform, options);
      case Transport::Dir:
        break;
    }
    throw Error(ref.str() + ": a dir: reference is a root filesystem, not an image",
                ErrorKind::Usage);
  });
}

Image load_image(const Reference& ref, const oci::Index& index, const oci::Platform& platform,
                 const TransportOptions& options) {
  if (ref.transport != Transport::Docker) return load_image(ref, platform, options);
  Reference by_digest = ref;
  by_digest.digest =
      naming_source(ref, [&] { return select_platform(index, platform, ref.str()).digest; });
  return load_image(by_digest, platform, options);
}

}  // namespace dslim
