// oci-archive:FILE[:TAG]: an OCI layout as one tar, written to a temporary
// file next to FILE and renamed over it.
#include "dslim/sink.hpp"
#include "oci_layout.hpp"
#include "sinks.hpp"
#include "temp_path.hpp"

namespace dslim {

void write_oci_archive(const Publication& pub, const Reference& ref) {
  std::string file = prepare_destination(ref.path).string();
  oci::Index index;
  set_tag(index, pub.descriptor(), pub.referrers, ref.tag.empty() ? kDefaultTag : ref.tag);
  TempFile tmp(file);
  write_layout_tar(tmp.fd(), file, pub.blobs, index, {}, pub.epoch);
  tmp.commit();
}

}  // namespace dslim
