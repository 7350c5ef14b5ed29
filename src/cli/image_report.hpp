#pragma once
// The file table and totals shown after `binary` and by `inspect`.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "dslim/image_summary.hpp"

namespace dslim::cli {

// Files largest first (at most `limit` rows; 0 = all), then the totals.
std::string render_summary(const ImageSummary& summary, size_t limit);
nlohmann::json summary_json(const ImageSummary& summary);

// Throws dslim::Error (TooLarge) when the image is over `max_bytes` (0 = no limit).
void check_max_size(const ImageSummary& summary, uint64_t max_bytes, const std::string& what);

}  // namespace dslim::cli
