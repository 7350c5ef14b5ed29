#pragma once
// An artifact that refers to an image (OCI image-spec 1.1 `subject`): an SBOM
// attached to the image it describes. Its manifest has the empty config and
// one layer, the document; registries list it among the image's referrers
// (the referrers API, or the `sha256-<hex>` tag where they lack it) and
// layouts carry it as an untagged index.json entry.
#include <cstdint>
#include <map>
#include <string>

#include "dslim/blob.hpp"
#include "dslim/image.hpp"
#include "dslim/oci.hpp"

namespace dslim {

struct Referrer {
  oci::Manifest manifest;
  Blob manifest_blob;
  Blob config_blob;  // "{}", application/vnd.oci.empty.v1+json
  Blob content;      // the document

  // How a referrers list or index.json names it: artifactType and the
  // manifest's annotations with the manifest's descriptor.
  oci::Descriptor descriptor() const;
};

// `title` names the document for tools that save it as a file (oras pull);
// `epoch` gives the created annotation, so the same inputs give the same bytes.
Referrer build_referrer(const Image& subject, const std::string& artifact_type, std::string content,
                        const std::string& title, int64_t epoch);

// The referrers-tag of the distribution spec's fallback: "sha256-<hex>".
std::string referrers_tag(const std::string& digest);

// Adds `d` to a referrers list unless a descriptor of the same digest is
// there; returns whether it was added.
bool add_referrer(oci::Index& list, const oci::Descriptor& d);

// Whether index.json's or a referrers list's entry `d` is an artifact
// rather than an image someone tagged.
bool is_artifact_entry(const oci::Descriptor& d);

}  // namespace dslim
