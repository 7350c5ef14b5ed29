// load_image(): oci: and oci-archive: through the layout reader; the
// docker-archive reader lives in docker_archive_source.cpp.
#include "dslim/source.hpp"

#include <filesystem>
#include <fstream>

#include "archive_contents.hpp"
#include "dslim/error.hpp"
#include "oci_layout.hpp"

namespace dslim {

Image read_docker_archive(const std::map<std::string, std::string>& files, const Reference& ref);

namespace {

std::optional<std::string> read_host_file(const std::filesystem::path& p) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(p, ec)) return std::nullopt;
  // Sized up front: a layer blob can be hundreds of MB, and a stringstream
  // would copy it several times over while growing.
  std::ifstream in(p, std::ios::binary);
  std::string bytes(std::filesystem::file_size(p, ec), '\0');
  if (ec || !in.read(bytes.data(), static_cast<std::streamsize>(bytes.size())))
    throw Error("cannot read " + p.string());
  return bytes;
}

}  // namespace

Image load_image(const Reference& ref) {
  try {
    switch (ref.transport) {
      case Transport::Oci: {
        std::filesystem::path dir = ref.path;
        if (!std::filesystem::is_directory(dir)) throw Error("no such directory " + ref.path);
        // Layout paths are fixed names or blobs/sha256/<validated hex>, so
        // nothing outside DIR is read.
        return read_oci_layout([&](const std::string& p) { return read_host_file(dir / p); },
                               ref.tag, ref.str());
      }
      case Transport::OciArchive: {
        auto files = read_archive_files(ref.path);
        return read_oci_layout(
            [&](const std::string& p) -> std::optional<std::string> {
              auto it = files.find(p);
              if (it == files.end()) return std::nullopt;
              return it->second;  // a copy: the same layer may be listed twice
            },
            ref.tag, ref.str());
      }
      case Transport::DockerArchive:
        return read_docker_archive(read_archive_files(ref.path), ref);
      case Transport::Docker:
        throw Error("docker:// is not wired yet", ErrorKind::Usage);
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
