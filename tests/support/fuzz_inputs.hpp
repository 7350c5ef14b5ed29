#pragma once
// The inputs a fuzz target once crashed on (fixtures/fuzz/<target>/crash-*),
// fed through the normal build by the module tests so each stays fixed.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

inline std::vector<std::filesystem::path> fuzz_crash_inputs(const std::string& target) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(DSLIM_SOURCE_DIR) /
                                                           "fixtures" / "fuzz" / target)) {
    if (e.path().filename().string().starts_with("crash-")) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  REQUIRE_FALSE(out.empty());  // a renamed directory must not pass silently
  return out;
}

inline std::string fuzz_input_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}
