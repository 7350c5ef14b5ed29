// Reading a `docker save` archive through manifest.json. There is no
// manifest blob in that format, so one is synthesized (OCI media types, layer
// compression detected from the bytes). Blobs named by digest
// (blobs/sha256/HEX, HEX.json) are verified against it; legacy ID/layer.tar
// layers, which carry no digest in their name, are checked against the
// config's diff_ids when uncompressed, and hashed once otherwise.
#include <nlohmann/json.hpp>

#include <map>

#include "dslim/digest.hpp"
#include "dslim/error.hpp"
#include "dslim/image.hpp"
#include "dslim/reference.hpp"
#include "dslim/sink.hpp"
#include "layout_files.hpp"

namespace dslim {
namespace {

// The digest a path names, if any: "blobs/sha256/HEX" or "HEX.json".
std::string digest_in_path(const std::string& path) {
  std::string hex;
  if (path.rfind("blobs/sha256/", 0) == 0)
    hex = path.substr(13);
  else if (path.size() == 69 && path.substr(64) == ".json")
    hex = path.substr(0, 64);
  std::string d = "sha256:" + hex;
  return is_sha256_digest(d) ? d : std::string();
}

const char* layer_type_of(const BlobContent& content) {
  char magic[4] = {};
  auto r = content.open();
  size_t n = 0;
  while (n < sizeof magic)
    if (size_t got = r->read(magic + n, sizeof magic - n))
      n += got;
    else
      break;
  std::string_view bytes(magic, n);
  if (bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
      static_cast<unsigned char>(bytes[1]) == 0x8b)
    return oci::media_type::kLayerGzip;
  if (bytes.size() >= 4 && bytes.substr(0, 4) == std::string_view("\x28\xb5\x2f\xfd", 4))
    return oci::media_type::kLayerZstd;
  return oci::media_type::kLayerTar;
}

// Docker's canonical form of a repository name, so "team/app:1" matches
// the "docker.io/team/app:1" that skopeo and docker save write, and
// "app:1" matches "docker.io/library/app:1".
std::string canonical_name(std::string name) {
  size_t slash = name.find('/');
  std::string first = slash == std::string::npos ? "" : name.substr(0, slash);
  bool has_domain = first.find_first_of(".:") != std::string::npos || first == "localhost";
  if (!has_domain) name = "docker.io/" + name;
  if (name.starts_with("docker.io/") && name.find('/', 10) == std::string::npos)
    name.insert(10, "library/");
  return name;
}

}  // namespace

Image read_docker_archive(const LayoutFiles& files, const Reference& ref) {
  const std::string what = ref.str();
  auto text = files.read("manifest.json", what);
  if (!text) throw Error(what + ": not a docker-archive (no manifest.json)");
  nlohmann::json manifest;
  try {
    manifest = nlohmann::json::parse(*text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(what + " manifest.json: malformed JSON (" + e.what() + ")");
  }
  if (!manifest.is_array() || manifest.empty())
    throw Error(what + " manifest.json: expected a non-empty array");

  const nlohmann::json* entry = nullptr;
  if (ref.name.empty()) {
    if (manifest.size() != 1)
      throw Error(what + ": holds " + std::to_string(manifest.size()) +
                  " images; name one with :NAME:TAG");
    entry = &manifest[0];
  } else {
    std::string want = ref.name + ":" + (ref.tag.empty() ? kDefaultTag : ref.tag);
    for (const auto& m : manifest) {
      if (!m.is_object() || !m.contains("RepoTags") || !m["RepoTags"].is_array()) continue;
      for (const auto& t : m["RepoTags"])
        if (t.is_string() && canonical_name(t.get<std::string>()) == canonical_name(want))
          entry = &m;
    }
    if (!entry) throw Error(what + ": no image tagged " + want);
  }

  auto field = [&](const nlohmann::json& j, const char* key) -> const nlohmann::json& {
    if (!j.is_object() || !j.contains(key)) throw Error(what + " manifest.json: missing " + key);
    return j[key];
  };
  // `diff_id`: what a plain tar layer named by no digest must hash to.
  auto file_blob = [&](const std::string& path, const char* media_type, const std::string& kind,
                       const std::string& diff_id) {
    auto content = files.file(path);
    if (!content) throw Error(what + ": " + kind + " " + path + " is missing");
    std::string mt = media_type ? media_type : layer_type_of(*content);
    std::string d = digest_in_path(path);
    if (d.empty() && mt == oci::media_type::kLayerTar) d = diff_id;
    if (d.empty()) {
      Sha256 sha;  // an old-style name says nothing: hash it once
      auto r = content->open();
      char buf[1 << 16];
      while (size_t n = r->read(buf, sizeof buf)) sha.update(buf, n);
      d = sha.finish();
    }
    Blob b = Blob::claimed(mt, d, std::move(content), what + " " + kind + " " + path);
    if (media_type) b.bytes();  // the config: read and checked now
    return b;
  };

  const nlohmann::json& config_path = field(*entry, "Config");
  if (!config_path.is_string()) throw Error(what + " manifest.json: Config is not a string");
  Blob config = file_blob(config_path.get<std::string>(), oci::media_type::kConfig, "config", "");
  oci::ImageConfig parsed = oci::parse_config(config.bytes(), what + " config " + config.digest());

  const nlohmann::json& layer_paths = field(*entry, "Layers");
  if (!layer_paths.is_array()) throw Error(what + " manifest.json: Layers is not an array");
  if (layer_paths.size() != parsed.diff_ids.size())
    throw Error(what + ": manifest.json lists " + std::to_string(layer_paths.size()) +
                " layers but the config has " + std::to_string(parsed.diff_ids.size()) +
                " diff_ids");
  std::vector<Blob> layers;
  for (size_t i = 0; i < layer_paths.size(); ++i) {
    if (!layer_paths[i].is_string()) throw Error(what + " manifest.json: a layer is not a string");
    std::string path = layer_paths[i].get<std::string>();
    layers.push_back(file_blob(path, nullptr, "layer", parsed.diff_ids[i]));
  }

  oci::Manifest m;
  m.config = config.descriptor();
  for (const auto& l : layers) m.layers.push_back(l.descriptor());
  Blob manifest_blob = Blob::from_bytes(oci::media_type::kManifest, oci::to_json(m));
  return image_from_blobs(std::move(manifest_blob), std::move(config), std::move(layers), what);
}

}  // namespace dslim
