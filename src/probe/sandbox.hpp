#pragma once
// The supervisor's handle on one sandbox: its PID 1 in fresh user, mount, PID, IPC, UTS and
// network namespaces, and the socket it and the program talk on. Making one writes the id maps;
// destroying one kills and reaps whatever is left of it.
#include <sys/types.h>

#include "dslim/probe.hpp"
#include "dslim/unique_fd.hpp"
#include "probe/sandbox_plan.hpp"

namespace dslim::probe::detail {

class Sandbox {
 public:
  // Throws dslim::Error when the spec's files cannot be read or no namespaces can be made.
  Sandbox(const ProbeSpec& spec, bool dry_run);
  ~Sandbox();
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  int sock() const { return sock_.get(); }
  int pidfd() const { return pidfd_.get(); }  // readable once PID 1 has ended
  void signal(int sig);                       // to PID 1 (SIGTERM is passed on to all)
  void reap();                                // after pidfd() became readable

  // One line for a Failed message: the step, what it worked on, and the errno.
  std::string failure(Step step, int err, int value) const;
  // One line for a NotStarted message; `interpreter` is what the traced execve asked the kernel
  // to load, when known.
  std::string not_started(Step step, int err, int value, const std::string& interpreter = {}) const;

 private:
  pid_t launch(unsigned long long flags);
  void write_id_maps();

  const ProbeSpec& spec_;
  ChildPlan plan_;
  std::vector<UniqueFd> child_fds_;  // the plan's fds: ours to close once the child has them
  UniqueFd sock_, pidfd_;
  pid_t pid_ = -1;
  bool reaped_ = false;
};

}  // namespace dslim::probe::detail
