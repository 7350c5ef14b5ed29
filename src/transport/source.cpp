// load_image(): oci: and oci-archive: through the layout reader; the
// docker-archive reader lives in docker_archive_source.cpp.
#include "dslim/source.hpp"

#include "dslim/error.hpp"
#include "layout_files.hpp"
#include "oci_layout.hpp"

namespace dslim {

Image read_docker_archive(const LayoutFiles& files, const Reference& ref);

Image read_registry(const Reference& ref, const oci::Platform& platform,
                    const TransportOptions& options);

Image load_image(const Reference& ref, const oci::Platform& platform,
                 const TransportOptions& options) {
  try {
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
  } catch (const Error& e) {
    std::string msg = e.what();
    // Errors from below already name the reference most of the time.
    if (msg.rfind(ref.str(), 0) == 0) throw;
    throw Error(ref.str() + ": " + msg, e.kind());
  }
  throw Error(ref.str() + ": a dir: reference is a root filesystem, not an image",
              ErrorKind::Usage);
}

}  // namespace dslim
