#include "cli/size.hpp"

#include <cctype>
#include <cstdio>
#include <map>

#include "dslim/error.hpp"

namespace dslim::cli {

uint64_t parse_size(const std::string& text) {
  static const std::map<std::string, double> units = {
      {"", 1},         {"b", 1},           {"k", 1e3},           {"kb", 1e3},
      {"m", 1e6},      {"mb", 1e6},        {"g", 1e9},           {"gb", 1e9},
      {"kib", 1024.0}, {"mib", 1048576.0}, {"gib", 1073741824.0}};
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) {
    ++i;
  }
  std::string number = text.substr(0, i), unit;
  for (char c : text.substr(i)) {
    if (c != ' ') unit += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  auto it = units.find(unit);
  char* end = nullptr;
  double value = number.empty() ? -1 : std::strtod(number.c_str(), &end);
  if (it == units.end() || value < 0 || end != number.c_str() + number.size() ||
      value * it->second > 1e18) {
    throw Error(
        "size '" + text + "': expected a number with an optional unit (KB, MB, GB, KiB, MiB, GiB)",
        ErrorKind::Usage);
  }
  // Rounded to the nearest byte by hand: std::llround is the one libm
  // symbol dslim would use, and loading libm costs every start.
  return static_cast<uint64_t>(value * it->second + 0.5);
}

std::string format_size(uint64_t bytes) {
  char buf[32];
  if (bytes < 1000) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  } else if (bytes < 1000000) {
    std::snprintf(buf, sizeof buf, "%.1f kB", bytes / 1e3);
  } else if (bytes < 1000000000) {
    std::snprintf(buf, sizeof buf, "%.1f MB", bytes / 1e6);
  } else {
    std::snprintf(buf, sizeof buf, "%.2f GB", bytes / 1e9);
  }
  return buf;
}

}  // namespace dslim::cli
