#include "dslim/environment.hpp"

#include <algorithm>
#include <string_view>

namespace dslim::slim {
namespace {

std::string_view key_of(std::string_view entry) {
  return entry.substr(0, entry.find('='));
}

}  // namespace

std::vector<std::string> merge_env(std::vector<std::string> base,
                                   const std::vector<std::string>& over) {
  for (const auto& entry : over) {
    auto same = std::find_if(base.begin(), base.end(),
                             [&](const std::string& e) { return key_of(e) == key_of(entry); });
    if (same != base.end())
      *same = entry;
    else
      base.push_back(entry);
  }
  return base;
}

}  // namespace dslim::slim
