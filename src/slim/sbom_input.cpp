// What an SBOM of a planned image lists: its packages and its own files.
#include "dslim/digest.hpp"
#include "dslim/slim.hpp"
#include "dslim/version.hpp"

namespace dslim::slim {

packages::SbomInput sbom_input(const SlimPlan& plan, const rootfs::RootFs& overlay,
                               const std::string& image_name, const std::string& manifest_digest,
                               int64_t epoch) {
  packages::SbomInput input;
  input.image_name = image_name;
  input.manifest_digest = manifest_digest;
  input.created = oci::rfc3339(epoch);
  input.tool_version = kVersion;
  input.packages = plan.packages;
  for (const auto& path : plan.app_files) {
    const auto view = overlay.open(path);
    const auto bytes = view->bytes();
    const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    input.files.push_back({path, sha1_hex(text), digest_hex(sha256_digest(text), path)});
  }
  return input;
}

}  // namespace dslim::slim
