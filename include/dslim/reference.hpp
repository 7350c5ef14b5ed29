#pragma once
// Image references in the containers-transports form (DESIGN.md §1):
//   dir:PATH   oci:PATH[:TAG]   oci-archive:FILE[:TAG]   docker-archive:FILE[:NAME[:TAG]]
// As in skopeo, PATH ends at the first ':' after the transport, so a path
// cannot hold ':'. Registry forms (docker://…, bare REPO:TAG) are recognized
// and rejected as not supported yet.
#include <string>

namespace dslim {

enum class Transport { Dir, Oci, OciArchive, DockerArchive };

struct Reference {
  Transport transport = Transport::Dir;
  std::string path;    // directory or archive file
  std::string tag;     // oci/oci-archive: TAG; docker-archive: TAG of NAME:TAG; empty = not given
  std::string name;    // docker-archive: NAME; empty = not given
  std::string digest;  // oci: "sha256:…" instead of a tag; empty = not given

  // Back to the user's spelling, for messages ("oci:out:latest").
  std::string str() const;
};

// Throws dslim::Error (ErrorKind::Usage) naming the reference when it is
// malformed, uses an unknown transport, or a registry one (not yet supported).
Reference parse_reference(const std::string& text);

}  // namespace dslim
