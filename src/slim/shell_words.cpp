#include "dslim/shell_words.hpp"

#include "dslim/error.hpp"

namespace dslim::slim {

std::vector<std::string> split_shell_words(const std::string& text, const std::string& what) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  enum { Plain, Single, Double } quote = Plain;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quote == Single) {
      if (c == '\'')
        quote = Plain;
      else
        word += c;
      continue;
    }
    if (c == '\\') {
      if (i + 1 == text.size())
        throw Error(what + " " + text + ": ends with a backslash", ErrorKind::Usage);
      const char next = text[++i];
      // Inside double quotes a backslash escapes only what a shell lets it.
      if (quote == Double && next != '"' && next != '\\' && next != '$' && next != '`')
        word += '\\';
      word += next;
      in_word = true;
      continue;
    }
    if (quote == Double) {
      if (c == '"')
        quote = Plain;
      else
        word += c;
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c == '\'' ? Single : Double;
      in_word = true;
    } else if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (quote != Plain) throw Error(what + " " + text + ": a quote is not closed", ErrorKind::Usage);
  if (in_word) words.push_back(std::move(word));
  return words;
}

}  // namespace dslim::slim
