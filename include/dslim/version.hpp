#pragma once
// dslim's version: --version, and the tool SBOMs name.
namespace dslim {
inline constexpr const char* kVersion = "0.1.0";
}  // namespace dslim
