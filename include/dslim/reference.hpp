#pragma once
// Image references in the containers-transports form (DESIGN.md §1):
//   dir:PATH   oci:PATH[:TAG|@sha256:HEX]   oci-archive:FILE[:TAG] docker-archive:FILE[:NAME[:TAG]]
//   docker://NAME[:TAG][@sha256:HEX]   NAME[:TAG][@sha256:HEX] (Docker Hub shorthand)
// As in skopeo, PATH ends at the first ':' after the transport, so a path
// cannot hold ':'. A registry NAME is [HOST[:PORT]/]REPO; without a HOST (a
// first component with '.' or ':', or "localhost") it is on Docker Hub.
#include <string>

namespace dslim {

enum class Transport { Dir, Oci, OciArchive, DockerArchive, Docker };

struct Reference {
  Transport transport = Transport::Dir;
  std::string path;    // directory or archive file
  std::string tag;     // oci/oci-archive: TAG; docker-archive: TAG of NAME:TAG; empty = not given
  std::string name;    // docker-archive: NAME; empty = not given
  std::string digest;  // oci: "sha256:…" instead of a tag; empty = not given

  // docker: (and docker: only) the name as written is in `name`; a
  // reference with neither tag nor digest gets tag "latest".
  std::string registry;      // "docker.io", "127.0.0.1:5000", "[::1]:5000"
  std::string repository;    // "library/alpine", "team/app"
  bool shorthand = false;    // written without "docker://"
  bool tag_implied = false;  // "latest" was filled in, not written

  // Back to the user's spelling, for messages ("oci:out:latest").
  std::string str() const;
};

// Throws dslim::Error (ErrorKind::Usage) naming the reference when it is
// malformed or uses an unknown transport.
Reference parse_reference(const std::string& text);

}  // namespace dslim
