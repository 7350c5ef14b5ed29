// Tests for src/slim/: splitting probe arguments as a shell does.
#include <catch2/catch.hpp>

#include "dslim/environment.hpp"
#include "dslim/error.hpp"
#include "dslim/shell_words.hpp"

using dslim::slim::split_shell_words;
using Words = std::vector<std::string>;

TEST_CASE("words split as a shell splits them, without expansion", "[slim]") {
  CHECK(split_shell_words("", "--probe").empty());
  CHECK(split_shell_words("  ", "--probe").empty());
  CHECK(split_shell_words("-t", "--probe") == Words{"-t"});
  CHECK(split_shell_words("-c 'import json, ssl'", "--probe") == Words{"-c", "import json, ssl"});
  CHECK(split_shell_words(R"x(-c "print(\"ok\")")x", "--probe") == Words{"-c", R"x(print("ok"))x"});
  CHECK(split_shell_words(R"(a\ b 'c'd"e" '' "")", "--probe") == Words{"a b", "cde", "", ""});
  CHECK(split_shell_words(R"("a\nb" 'x\y')", "--probe") == Words{R"(a\nb)", R"(x\y)"});
  CHECK(split_shell_words("$HOME *.txt ~", "--probe") == Words{"$HOME", "*.txt", "~"});
  CHECK(split_shell_words("a\tb\nc", "--probe") == Words{"a", "b", "c"});
}

TEST_CASE("an unterminated quote or a trailing backslash is a usage error", "[slim]") {
  for (const char* bad : {"'abc", "\"abc", "abc\\"}) {
    INFO(bad);
    try {
      split_shell_words(bad, "--probe");
      FAIL("no error");
    } catch (const dslim::Error& e) {
      CHECK(e.kind() == dslim::ErrorKind::Usage);
      CHECK(std::string(e.what()).starts_with(std::string("--probe ") + bad + ": "));
    }
  }
}

TEST_CASE("a later Env value of a key replaces the earlier one, in its place", "[slim]") {
  using dslim::slim::merge_env;
  const std::vector<std::string> base{"PATH=/usr/bin:/bin", "LANG=C.UTF-8"};
  CHECK(merge_env(base, {"PATH=/opt/bin", "TZ=UTC"}) ==
        std::vector<std::string>{"PATH=/opt/bin", "LANG=C.UTF-8", "TZ=UTC"});
  CHECK(merge_env(base, {}) == base);
  CHECK(merge_env({"A=1", "A=2"}, {"A=3"}) == std::vector<std::string>{"A=3", "A=2"});
  CHECK(merge_env({"PATHX=1"}, {"PATH=2"}) == std::vector<std::string>{"PATHX=1", "PATH=2"});
}
