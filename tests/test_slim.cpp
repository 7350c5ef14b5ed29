// Tests for src/slim/: splitting probe arguments as a shell does, the
// Env's merge, an image's entry program and its stop signal.
#include <catch2/catch.hpp>

#include <csignal>

#include "dslim/environment.hpp"
#include "dslim/error.hpp"
#include "dslim/shell_words.hpp"
#include "dslim/slim.hpp"

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

TEST_CASE("the entry program: Entrypoint, else Cmd; names along PATH; relative to WorkingDir",
          "[slim]") {
  using dslim::slim::find_entry_command;
  dslim::rootfs::MemRootFs fs;
  fs.add_file("/usr/bin/python3.11",
              "\x7f"
              "ELF",
              0755);
  fs.add_symlink("/usr/bin/python3", "python3.11");
  fs.add_file("/usr/local/bin/tool", "#!/bin/sh\n", 0755);
  fs.add_file("/usr/sbin/nginx", "x", 0755);
  fs.add_file("/srv/app.py", "print()\n");
  fs.add_file("/srv/run", "x", 0755);
  fs.add_file("/etc/data", "x", 0600);
  fs.add_dir("/data");
  dslim::oci::ContainerConfig c;
  c.entrypoint = {"/usr/bin/python3", "/srv/app.py", "/data", "/nope", "relative.txt"};
  c.cmd = {"/etc/data"};
  auto e = find_entry_command(fs, c, "oci:x");
  CHECK(e.program == "/usr/bin/python3");
  CHECK(e.files == std::vector<std::string>{"/srv/app.py", "/etc/data"});

  c = {};
  c.cmd = {"nginx", "-t"};  // no PATH in the Env: the runtime's default
  CHECK(find_entry_command(fs, c, "oci:x").program == "/usr/sbin/nginx");
  c.env = {"PATH=/usr/local/bin:/usr/bin"};
  CHECK_THROWS_WITH(find_entry_command(fs, c, "oci:x"),
                    Catch::Contains("oci:x") && Catch::Contains("Cmd nginx") &&
                        Catch::Contains("not found along PATH=/usr/local/bin:/usr/bin"));
  c.cmd = {"tool"};
  CHECK(find_entry_command(fs, c, "oci:x").program == "/usr/local/bin/tool");
  c.cmd = {"./run"};
  c.working_dir = "/srv";
  CHECK(find_entry_command(fs, c, "oci:x").program == "/srv/run");
  c.cmd = {"app.py"};  // not executable: execvp skips it
  c.env = {"PATH=:/usr/bin"};
  CHECK_THROWS(find_entry_command(fs, c, "oci:x"));

  c = {};
  c.entrypoint = {"/usr/bin/missing"};
  c.cmd = {"-x"};
  CHECK_THROWS_WITH(find_entry_command(fs, c, "oci:x"),
                    Catch::Contains("oci:x: Entrypoint /usr/bin/missing: no such file"));
  c.entrypoint = {"/srv/app.py"};
  CHECK_THROWS_WITH(find_entry_command(fs, c, "oci:x"), Catch::Contains("not an executable file"));
  c = {};
  try {
    find_entry_command(fs, c, "oci:x");
    FAIL("no error");
  } catch (const dslim::Error& err) {
    CHECK(err.kind() == dslim::ErrorKind::Input);
    CHECK(std::string(err.what()) ==
          "oci:x has no Entrypoint or Cmd: there is no program to slim for");
  }
}

TEST_CASE("stop signals by name, number or real-time offset", "[slim]") {
  using dslim::slim::parse_signal;
  CHECK(parse_signal("SIGTERM", "StopSignal") == SIGTERM);
  CHECK(parse_signal("SIGQUIT", "StopSignal") == SIGQUIT);
  CHECK(parse_signal("quit", "StopSignal") == SIGQUIT);
  CHECK(parse_signal("WINCH", "StopSignal") == SIGWINCH);
  CHECK(parse_signal("9", "StopSignal") == 9);
  CHECK(parse_signal("SIGRTMIN+3", "StopSignal") == SIGRTMIN + 3);
  CHECK(parse_signal("SIGRTMAX-1", "StopSignal") == SIGRTMAX - 1);
  for (const char* bad : {"", "SIG", "SIGFOO", "0", "999", "-1", "RTMIN+99"}) {
    INFO(bad);
    CHECK_THROWS_WITH(parse_signal(bad, "oci:x: StopSignal"), Catch::Contains("oci:x: StopSignal"));
  }
}
