#pragma once
// Base64 (RFC 4648, with padding) for Basic auth and config.json `auth`.
#include <optional>
#include <string>
#include <string_view>

namespace dslim::registry {

std::string base64_encode(std::string_view bytes);
// nullopt when `text` is not valid base64 (padding optional).
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace dslim::registry
