#pragma once
// Reading a traced process from the supervisor: its memory (process_vm_readv) and its working
// directory and descriptors (/proc/PID/cwd, /proc/PID/fd/N). From outside the sandbox these
// links read as the sandbox sees them: after pivot_root and the old root's detachment the
// overlay is the top of the sandbox's mount tree, so the kernel's d_path stops there
// (tests/test_probe.cpp checks it). The caller re-checks the notification id afterwards: the
// process may have died and its pid been reused meanwhile.
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace dslim::probe::detail {

// The NUL-terminated string at `addr` (at most PATH_MAX bytes); false when unreadable.
bool read_remote_string(pid_t pid, uint64_t addr, std::string& out);
// Exactly `size` bytes at `addr`.
bool read_remote(pid_t pid, uint64_t addr, void* buf, size_t size);
// The working directory (dirfd AT_FDCWD) or the path of descriptor `dirfd`; false when it is
// not a path (a pipe, a socket) or the process is gone.
bool remote_dir_path(pid_t pid, int dirfd, std::string& out);
// The process (thread group) id of host thread `tid` in its innermost PID namespace, or 0.
int namespace_tgid(pid_t tid);

}  // namespace dslim::probe::detail
