#pragma once
// The files the kernel opens itself to run a program, which no system call of the program names:
// a script's `#!` interpreter (and that interpreter's, as binfmt_script nests them) and an ELF
// program's PT_INTERP loader. Read through /proc/PID/root with RESOLVE_IN_ROOT, so the sandbox's
// symlinks resolve inside its root.
#include <sys/types.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace dslim::probe::detail {

struct Interpreter {
  std::string path;  // as the kernel would open it: absolute, or joined to the working directory
  const char* how;   // "binfmt_script" or "binfmt_elf"
};

// What executing `path` (absolute, in the sandbox of process `pid`) makes the kernel open.
// Empty when the file cannot be read (the execve then fails as well).
// `before_read` is called with each file before it is read (a lazy root writes it then).
std::vector<Interpreter> kernel_interpreters(
    pid_t pid, const std::string& path, const std::function<void(const std::string&)>& before_read);

}  // namespace dslim::probe::detail
