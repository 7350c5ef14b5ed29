// Recognising `#!` scripts, so callers can name the interpreter a script
// needs instead of just rejecting it as "not ELF".
#include <algorithm>
#include <string>

#include "dslim/elf.hpp"

namespace dslim::elf {

std::optional<std::string> script_interpreter(std::span<const std::byte> bytes) {
  // Linux reads at most this much of the #! line (BINPRM_BUF_SIZE).
  constexpr size_t kMaxLine = 256;
  const auto* p = reinterpret_cast<const char*>(bytes.data());
  const size_t n = std::min(bytes.size(), kMaxLine);
  if (n < 2 || p[0] != '#' || p[1] != '!') return std::nullopt;
  size_t i = 2;
  while (i < n && (p[i] == ' ' || p[i] == '\t')) ++i;
  const size_t start = i;
  while (i < n && p[i] != ' ' && p[i] != '\t' && p[i] != '\n' && p[i] != '\r' && p[i] != '\0') ++i;
  return std::string(p + start, i - start);
}

}  // namespace dslim::elf
