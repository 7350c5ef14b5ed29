#include "cli/image_report.hpp"

#include <cstdio>

#include "cli/size.hpp"
#include "dslim/error.hpp"

namespace dslim::cli {

std::string render_summary(const ImageSummary& summary, size_t limit) {
  std::string out;
  char line[64];
  size_t shown = 0;
  out += "      SIZE  PATH\n";
  for (const auto& entry : summary.files) {
    if (limit && shown == limit) {
      out += "  ... " + std::to_string(summary.files.size() - shown) + " more entries\n";
      break;
    }
    const LayerFile& f = entry.file;
    std::string size = f.type == LayerEntryType::File ? format_size(f.size) : "-";
    std::snprintf(line, sizeof line, "%10s  ", size.c_str());
    out += line + f.path;
    if (f.type == LayerEntryType::Symlink || f.type == LayerEntryType::Hardlink) {
      out += " -> " + f.link_target;
    } else if (f.type == LayerEntryType::Dir) {
      out += "/";
    }
    out += "\n";
    ++shown;
  }
  out += "files: " + std::to_string(summary.file_count) +
         ", uncompressed: " + format_size(summary.file_bytes) +
         ", layers: " + format_size(summary.layer_bytes) +
         ", image: " + format_size(summary.image_bytes) + " (" +
         std::to_string(summary.image_bytes) + " bytes)\n";
  return out;
}

nlohmann::json summary_json(const ImageSummary& summary) {
  using nlohmann::json;
  json files = json::array();
  for (const auto& entry : summary.files) {
    const LayerFile& f = entry.file;
    json file = {{"path", f.path}, {"type", to_string(f.type)},
                 {"size", f.size}, {"mode", f.mode},
                 {"uid", f.uid},   {"gid", f.gid}};
    if (!f.link_target.empty()) file["target"] = f.link_target;
    files.push_back(std::move(file));
  }
  json layers = json::array();
  for (const auto& layer : summary.layers) {
    layers.push_back(
        {{"digest", layer.digest}, {"size", layer.size}, {"mediaType", layer.media_type}});
  }
  const auto& config = summary.config;
  return {{"manifest_digest", summary.manifest_digest},
          {"platform",
           {{"os", config.platform.os},
            {"architecture", config.platform.architecture},
            {"variant", config.platform.variant}}},
          {"config",
           {{"entrypoint", config.config.entrypoint},
            {"cmd", config.config.cmd},
            {"env", config.config.env},
            {"user", config.config.user},
            {"working_dir", config.config.working_dir},
            {"exposed_ports", config.config.exposed_ports},
            {"labels", config.config.labels},
            {"volumes", config.config.volumes},
            {"stop_signal", config.config.stop_signal}}},
          {"created", config.created},
          {"layers", layers},
          {"files", files},
          {"totals",
           {{"files", summary.file_count},
            {"uncompressed_bytes", summary.file_bytes},
            {"layer_bytes", summary.layer_bytes},
            {"image_bytes", summary.image_bytes}}}};
}

void check_max_size(const ImageSummary& summary, uint64_t max_bytes, const std::string& what) {
  if (max_bytes == 0 || summary.image_bytes <= max_bytes) return;
  throw Error(what + " is " + format_size(summary.image_bytes) + " (" +
                  std::to_string(summary.image_bytes) + " bytes), over --max-size " +
                  format_size(max_bytes) + " (" + std::to_string(max_bytes) + " bytes)",
              ErrorKind::TooLarge);
}

}  // namespace dslim::cli
