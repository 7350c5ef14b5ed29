#pragma once
// Everything the sandbox's processes need, computed by the supervisor before it forks them.
// The children run between a raw clone and execve in a copy of a possibly multi-threaded
// process, where malloc's (and the sanitizers') locks may be held by threads that no longer
// exist: so they only read this plan and make system calls, never allocate.
#include <linux/filter.h>
#include <sys/types.h>
#include <csignal>

#include <string>
#include <vector>

#include "probe/file_placement.hpp"
#include "probe/protocol.hpp"
#include "probe/root_layout.hpp"

namespace dslim::probe::detail {

struct ChildPlan {
  int sock = -1;              // the sandbox's end of the socketpair (close-on-exec)
  int root_fd = -1;           // spec.root (O_PATH), the overlay's lower layer through /proc/self/fd
  std::vector<int> keep_fds;  // sorted; every other fd >= 3 is closed in the sandbox

  // The scratch tmpfs is mounted over `scratch` in the sandbox's own mount namespace; the
  // overlays' upper and work dirs and the new root are made in it (root_layout.hpp).
  std::string scratch, new_root;
  bool composed_root = false;
  std::vector<RootOp> root_ops;
  // new_root + "/proc", "/dev", and the device nodes' host and in-root paths (kDevices' order).
  std::string new_proc, new_dev;
  std::vector<std::string> host_devices, new_devices;

  std::vector<PlacedFile> files;
  int stdio[3] = {-1, -1, -1};  // host fds for the program's 0, 1, 2; -1: /dev/null

  bool user_namespace = true;      // false: root without user namespaces
  bool set_ids = false;            // setgroups/setgid/setuid before execve (ids are mapped 1:1)
  bool drop_capabilities = false;  // root without a user namespace: a container's capability set
  uid_t uid = 0;
  gid_t gid = 0;

  std::string workdir;
  int stop_signal = SIGTERM;            // PID 1 passes it on to the tree, as it does SIGTERM
  std::vector<std::string> candidates;  // argv[0], or its PATH lookups in order
  std::vector<std::string> argv_store, env_store;
  std::vector<char*> argv, envp;  // null-terminated views of the stores

  bool trace = true;
  std::vector<sock_filter> filter;
  bool dry_run = false;  // set up, report Ready, and end without running anything
};

// The sandbox's PID 1: sets up the namespaces' contents (mounts, /dev, files, hostname, loopback),
// forks the program's process, reaps every process of the namespace and reports the program's
// status. Runs in the freshly cloned child; never returns.
[[noreturn]] void sandbox_init(const ChildPlan& plan);

// The program's process, forked by sandbox_init: stdio, working directory, the seccomp filter
// with its listener handed to the supervisor, ids, then execve. Never returns.
[[noreturn]] void start_program(const ChildPlan& plan);

// Sends one message; async-signal-safe.
void send_message(int sock, MsgType type, Step step = Step::CloseFds, int err = 0, int value = 0);

}  // namespace dslim::probe::detail
