// JSON for the OCI model. nlohmann::json keeps object keys in a std::map, so
// dump() is already sorted and compact: the canonical form dslim digests.
#include <nlohmann/json.hpp>

#include <ctime>
#include <set>

#include "dslim/error.hpp"
#include "dslim/oci.hpp"

namespace dslim::oci {
namespace {

using nlohmann::json;

std::string dump(const json& j, const char* what) {
  try {
    return j.dump();
  } catch (const json::exception& e) {
    // Only invalid UTF-8 in a user-given string gets here.
    throw Error(std::string("cannot serialize ") + what + ": " + e.what(), ErrorKind::Usage);
  }
}

json platform_json(const Platform& p) {
  json j = {{"architecture", p.architecture}, {"os", p.os}};
  if (!p.variant.empty()) j["variant"] = p.variant;
  return j;
}

json descriptor_json(const Descriptor& d) {
  json j = {{"mediaType", d.media_type}, {"digest", d.digest}, {"size", d.size}};
  if (!d.annotations.empty()) j["annotations"] = d.annotations;
  if (d.platform) j["platform"] = platform_json(*d.platform);
  if (!d.artifact_type.empty()) j["artifactType"] = d.artifact_type;
  return j;
}

// Parsing: `at` is the JSON path of the value, for messages.
struct Reader {
  const std::string& what;

  [[noreturn]] void fail(const std::string& at, const std::string& why) const {
    throw Error(what + ": " + why + (at.empty() ? "" : " at '" + at + "'"));
  }
  const json& field(const json& obj, const std::string& at, const char* key) const {
    if (!obj.is_object()) fail(at, "expected an object");
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) fail(at.empty() ? key : at + "." + key, "missing field");
    return *it;
  }
  const json* optional(const json& obj, const std::string& at, const char* key) const {
    if (!obj.is_object()) fail(at, "expected an object");
    auto it = obj.find(key);
    return it == obj.end() || it->is_null() ? nullptr : &*it;
  }
  std::string string(const json& j, const std::string& at) const {
    if (!j.is_string()) fail(at, "expected a string");
    return j.get<std::string>();
  }
  std::string opt_string(const json& obj, const std::string& at, const char* key) const {
    const json* j = optional(obj, at, key);
    return j ? string(*j, at + "." + key) : std::string();
  }
  std::vector<std::string> strings(const json* j, const std::string& at) const {
    std::vector<std::string> out;
    if (!j) return out;
    if (!j->is_array()) fail(at, "expected an array");
    for (const auto& v : *j) out.push_back(string(v, at + "[]"));
    return out;
  }
  std::map<std::string, std::string> string_map(const json* j, const std::string& at) const {
    std::map<std::string, std::string> out;
    if (!j) return out;
    if (!j->is_object()) fail(at, "expected an object");
    for (const auto& [k, v] : j->items()) out[k] = string(v, at + "." + k);
    return out;
  }
  Platform platform(const json& j, const std::string& at) const {
    Platform p;
    p.architecture = string(field(j, at, "architecture"), at + ".architecture");
    p.os = string(field(j, at, "os"), at + ".os");
    p.variant = opt_string(j, at, "variant");
    return p;
  }
  Descriptor descriptor(const json& j, const std::string& at) const {
    Descriptor d;
    d.media_type = string(field(j, at, "mediaType"), at + ".mediaType");
    d.digest = string(field(j, at, "digest"), at + ".digest");
    const json& size = field(j, at, "size");
    if (!size.is_number_unsigned() && !(size.is_number_integer() && size.get<int64_t>() >= 0))
      fail(at + ".size", "expected a non-negative integer");
    d.size = size.get<uint64_t>();
    d.annotations = string_map(optional(j, at, "annotations"), at + ".annotations");
    if (const json* p = optional(j, at, "platform")) d.platform = platform(*p, at + ".platform");
    d.artifact_type = opt_string(j, at, "artifactType");
    return d;
  }
};

json parse_text(std::string_view text, const std::string& what) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    // parse_error, and out_of_range for a number too large for a double (1e999).
    throw Error(what + ": malformed JSON (" + e.what() + ")");
  }
}

void check_schema_version(const Reader& r, const json& j) {
  const json& v = r.field(j, "", "schemaVersion");
  if (!v.is_number_integer() || v.get<int64_t>() != 2) r.fail("schemaVersion", "expected 2");
}

}  // namespace

std::string rfc3339(int64_t epoch_seconds) {
  time_t t = static_cast<time_t>(epoch_seconds);
  struct tm tm {};
  if (!gmtime_r(&t, &tm)) throw Error("time " + std::to_string(epoch_seconds) + " out of range");
  char buf[64];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string to_json(const ImageConfig& c) {
  json cfg = json::object();
  const ContainerConfig& cc = c.config;
  if (!cc.entrypoint.empty()) cfg["Entrypoint"] = cc.entrypoint;
  if (!cc.cmd.empty()) cfg["Cmd"] = cc.cmd;
  if (!cc.env.empty()) cfg["Env"] = cc.env;
  if (!cc.user.empty()) cfg["User"] = cc.user;
  if (!cc.working_dir.empty()) cfg["WorkingDir"] = cc.working_dir;
  // ExposedPorts and Volumes are sets in the JSON: objects whose values are {}.
  auto set_of = [](const std::vector<std::string>& keys) {
    json out = json::object();
    for (const auto& k : std::set<std::string>(keys.begin(), keys.end())) out[k] = json::object();
    return out;
  };
  if (!cc.exposed_ports.empty()) cfg["ExposedPorts"] = set_of(cc.exposed_ports);
  if (!cc.labels.empty()) cfg["Labels"] = cc.labels;
  if (!cc.volumes.empty()) cfg["Volumes"] = set_of(cc.volumes);
  if (!cc.stop_signal.empty()) cfg["StopSignal"] = cc.stop_signal;

  json j = {{"architecture", c.platform.architecture},
            {"os", c.platform.os},
            {"config", cfg},
            {"rootfs", {{"type", "layers"}, {"diff_ids", c.diff_ids}}}};
  if (!c.platform.variant.empty()) j["variant"] = c.platform.variant;
  if (!c.created.empty()) j["created"] = c.created;
  if (!c.history.empty()) {
    json hist = json::array();
    for (const auto& h : c.history) {
      json e = json::object();
      if (!h.created.empty()) e["created"] = h.created;
      if (!h.created_by.empty()) e["created_by"] = h.created_by;
      if (!h.comment.empty()) e["comment"] = h.comment;
      if (h.empty_layer) e["empty_layer"] = true;
      hist.push_back(e);
    }
    j["history"] = hist;
  }
  return dump(j, "image config");
}

std::string to_json(const Manifest& m) {
  json layers = json::array();
  for (const auto& l : m.layers) layers.push_back(descriptor_json(l));
  json j = {{"schemaVersion", 2},
            {"mediaType", m.media_type},
            {"config", descriptor_json(m.config)},
            {"layers", layers}};
  if (!m.artifact_type.empty()) j["artifactType"] = m.artifact_type;
  if (m.subject) j["subject"] = descriptor_json(*m.subject);
  if (!m.annotations.empty()) j["annotations"] = m.annotations;
  return dump(j, "manifest");
}

std::string to_json(const Index& idx) {
  json manifests = json::array();
  for (const auto& d : idx.manifests) manifests.push_back(descriptor_json(d));
  json j = {{"schemaVersion", 2}, {"mediaType", media_type::kIndex}, {"manifests", manifests}};
  if (!idx.annotations.empty()) j["annotations"] = idx.annotations;
  return dump(j, "index");
}

ImageConfig parse_config(std::string_view text, const std::string& what) {
  json j = parse_text(text, what);
  Reader r{what};
  if (!j.is_object()) r.fail("", "expected an object");
  ImageConfig c;
  c.platform.architecture = r.string(r.field(j, "", "architecture"), "architecture");
  c.platform.os = r.string(r.field(j, "", "os"), "os");
  c.platform.variant = r.opt_string(j, "", "variant");
  c.created = r.opt_string(j, "", "created");
  if (const json* cfg = r.optional(j, "", "config")) {
    if (!cfg->is_object()) r.fail("config", "expected an object");
    ContainerConfig& cc = c.config;
    cc.entrypoint = r.strings(r.optional(*cfg, "config", "Entrypoint"), "config.Entrypoint");
    cc.cmd = r.strings(r.optional(*cfg, "config", "Cmd"), "config.Cmd");
    cc.env = r.strings(r.optional(*cfg, "config", "Env"), "config.Env");
    cc.user = r.opt_string(*cfg, "config", "User");
    cc.working_dir = r.opt_string(*cfg, "config", "WorkingDir");
    auto keys = [&](const char* name) {
      std::vector<std::string> out;
      if (const json* set = r.optional(*cfg, "config", name)) {
        if (!set->is_object()) r.fail(std::string("config.") + name, "expected an object");
        for (const auto& [k, v] : set->items()) out.push_back(k);
      }
      return out;
    };
    cc.exposed_ports = keys("ExposedPorts");
    cc.labels = r.string_map(r.optional(*cfg, "config", "Labels"), "config.Labels");
    cc.volumes = keys("Volumes");
    cc.stop_signal = r.opt_string(*cfg, "config", "StopSignal");
  }
  const json& rootfs = r.field(j, "", "rootfs");
  c.diff_ids = r.strings(&r.field(rootfs, "rootfs", "diff_ids"), "rootfs.diff_ids");
  if (const json* hist = r.optional(j, "", "history")) {
    if (!hist->is_array()) r.fail("history", "expected an array");
    for (const auto& e : *hist) {
      History h;
      h.created = r.opt_string(e, "history[]", "created");
      h.created_by = r.opt_string(e, "history[]", "created_by");
      h.comment = r.opt_string(e, "history[]", "comment");
      if (const json* el = r.optional(e, "history[]", "empty_layer"))
        h.empty_layer = el->is_boolean() && el->get<bool>();
      c.history.push_back(std::move(h));
    }
  }
  return c;
}

Manifest parse_manifest(std::string_view text, const std::string& what) {
  json j = parse_text(text, what);
  Reader r{what};
  if (!j.is_object()) r.fail("", "expected an object");
  check_schema_version(r, j);
  Manifest m;
  // mediaType is optional in OCI manifests; without it the document is OCI.
  m.media_type = r.opt_string(j, "", "mediaType");
  if (m.media_type.empty()) m.media_type = media_type::kManifest;
  if (!is_manifest_type(m.media_type))
    r.fail("mediaType", "not an image manifest ('" + m.media_type + "')");
  m.config = r.descriptor(r.field(j, "", "config"), "config");
  const json& layers = r.field(j, "", "layers");
  if (!layers.is_array()) r.fail("layers", "expected an array");
  for (const auto& l : layers) m.layers.push_back(r.descriptor(l, "layers[]"));
  m.artifact_type = r.opt_string(j, "", "artifactType");
  if (const json* s = r.optional(j, "", "subject")) m.subject = r.descriptor(*s, "subject");
  m.annotations = r.string_map(r.optional(j, "", "annotations"), "annotations");
  return m;
}

Index parse_index(std::string_view text, const std::string& what) {
  json j = parse_text(text, what);
  Reader r{what};
  if (!j.is_object()) r.fail("", "expected an object");
  check_schema_version(r, j);
  std::string mt = r.opt_string(j, "", "mediaType");
  if (!mt.empty() && !is_index_type(mt)) r.fail("mediaType", "not an image index ('" + mt + "')");
  Index idx;
  const json& manifests = r.field(j, "", "manifests");
  if (!manifests.is_array()) r.fail("manifests", "expected an array");
  for (const auto& d : manifests) idx.manifests.push_back(r.descriptor(d, "manifests[]"));
  idx.annotations = r.string_map(r.optional(j, "", "annotations"), "annotations");
  return idx;
}

bool is_manifest_type(std::string_view t) {
  return t == media_type::kManifest || t == media_type::kDockerManifest;
}

bool is_index_type(std::string_view t) {
  return t == media_type::kIndex || t == media_type::kDockerManifestList;
}

}  // namespace dslim::oci
