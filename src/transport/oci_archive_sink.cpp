// oci-archive:FILE[:TAG]: an OCI layout as one tar, written to a temporary
// file next to FILE and renamed over it.
#include "dslim/sink.hpp"
#include "oci_layout.hpp"
#include "sinks.hpp"
#include "temp_path.hpp"

namespace dslim {

void write_oci_archive(const Image& image, const std::vector<Referrer>& referrers,
                       const Reference& ref) {
  std::string file = prepare_destination(ref.path).string();
  oci::Index index;
  set_tag(index, image, referrers, ref.tag.empty() ? kDefaultTag : ref.tag);
  TempFile tmp(file);
  write_layout_tar(tmp.fd(), file, unique_blobs(image, referrers), index, {}, image.epoch);
  tmp.commit();
}

}  // namespace dslim
