#pragma once
// Byte sizes as users write and read them.
#include <cstdint>
#include <string>

namespace dslim::cli {

// "10MB" (10^6), "9.5MiB" (2^20), "512k", "1GB", "4096"; throws dslim::Error
// (Usage) naming the text otherwise.
uint64_t parse_size(const std::string& text);

// 4321000 -> "4.3 MB" (decimal units, like docker and skopeo print).
std::string format_size(uint64_t bytes);

}  // namespace dslim::cli
