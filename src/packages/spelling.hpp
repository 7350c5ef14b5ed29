#pragma once
// How the package stage spells names: purl and URI components, lowercase ids.
#include <string>
#include <string_view>

namespace dslim::packages {

// RFC 3986: everything but the unreserved characters as %XX, so any name
// makes a valid, unambiguous purl component or URI path segment.
std::string percent_encode(std::string_view text);

// The inverse: %XX back to the byte; a malformed escape is kept as it is.
std::string percent_decode(std::string_view text);

// ASCII lowercase (licence names, hex digests).
std::string ascii_lower(std::string text);

}  // namespace dslim::packages
