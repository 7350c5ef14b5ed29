// Parsing WWW-Authenticate: a comma both separates the params of one
// challenge and starts the next challenge, so a token is a new scheme unless
// an '=' follows it.
#include "www_authenticate.hpp"

#include <cctype>

namespace dslim::registry {
namespace {

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~/").find(c) != std::string_view::npos;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}
  bool done() const { return i_ >= s_.size(); }
  char peek() const { return done() ? '\0' : s_[i_]; }
  size_t pos() const { return i_; }
  void seek(size_t i) { i_ = i; }
  void skip_space() {
    while (!done() && (s_[i_] == ' ' || s_[i_] == '\t')) ++i_;
  }
  void skip_space_and_commas() {
    while (!done() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == ',')) ++i_;
  }
  std::string_view token() {
    size_t start = i_;
    while (!done() && is_token_char(s_[i_])) ++i_;
    return s_.substr(start, i_ - start);
  }
  // After the opening quote: up to the closing one, backslash escapes undone.
  std::string quoted() {
    std::string out;
    ++i_;
    while (!done() && s_[i_] != '"') {
      if (s_[i_] == '\\' && i_ + 1 < s_.size()) ++i_;
      out += s_[i_++];
    }
    if (!done()) ++i_;  // the closing quote, when there is one
    return out;
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace

std::string Challenge::param(const std::string& name) const {
  auto it = params.find(name);
  return it == params.end() ? "" : it->second;
}

std::vector<Challenge> parse_www_authenticate(std::string_view header) {
  std::vector<Challenge> out;
  Scanner s(header);
  while (true) {
    s.skip_space_and_commas();
    std::string_view scheme = s.token();
    if (scheme.empty()) break;  // end, or a character no challenge starts with
    Challenge c;
    c.scheme = lower(scheme);
    while (true) {
      s.skip_space_and_commas();
      size_t start = s.pos();
      std::string_view name = s.token();
      s.skip_space();
      if (name.empty() || s.peek() != '=') {
        s.seek(start);  // the next challenge's scheme (or the end)
        break;
      }
      s.seek(s.pos() + 1);
      s.skip_space();
      std::string value = s.peek() == '"' ? s.quoted() : std::string(s.token());
      c.params[lower(name)] = value;
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace dslim::registry
