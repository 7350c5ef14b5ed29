#pragma once
// The supervisor's side of the seccomp user notification: for each notified call, read its
// path arguments out of the process, make them absolute as the sandbox sees them, answer
// CONTINUE (or EPERM for a refused call) and record what was touched.
#include <linux/seccomp.h>

#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "dslim/probe.hpp"
#include "dslim/unique_fd.hpp"
#include "probe/syscall_table.hpp"

namespace dslim::probe::detail {

class Tracer {
 public:
  // Takes the listener fd. Throws dslim::Error when the kernel's notification sizes are unknown.
  // `before_access`: ProbeSpec's, may be empty.
  Tracer(UniqueFd listener,
         const std::function<void(AccessKind, const std::string&)>& before_access);
  int fd() const { return listener_.get(); }

  // Receives and answers one pending notification, appending its accesses to `out` (an access
  // equal to the last one is not repeated: getdents64 comes once per buffer of entries).
  void handle(std::vector<Access>& out);

 private:
  void collect(const seccomp_notif& req, const SyscallRule& rule, int pid);
  bool operand_path(const seccomp_notif& req, const SyscallRule& rule, const Operand& op);
  void add(AccessKind kind, int pid, const char* call, bool write);
  int sandbox_pid(pid_t tid);

  UniqueFd listener_;
  const std::function<void(AccessKind, const std::string&)>& before_access_;
  std::vector<char> request_, response_;  // sized by SECCOMP_GET_NOTIF_SIZES, reused
  std::unordered_map<pid_t, int> sandbox_pids_;
  std::vector<Access> pending_;  // this notification's, committed once its id is still valid
  std::string path_, arg_;       // reused buffers
};

}  // namespace dslim::probe::detail
