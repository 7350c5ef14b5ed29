#pragma once
// Arguments written as one string, split as a POSIX shell splits words
// (`--probe '-c "import json"'`), without any expansion.
#include <string>
#include <vector>

namespace dslim::slim {

// "a 'b c' \"d\\\"e\" f\\ g" -> {a, b c, d"e, f g}. Quotes group, backslash
// escapes outside single quotes; nothing is expanded ($, *, ~ stay as they
// are). Throws dslim::Error (Usage) for an unterminated quote or a trailing
// backslash, naming `what`.
std::vector<std::string> split_shell_words(const std::string& text, const std::string& what);

}  // namespace dslim::slim
