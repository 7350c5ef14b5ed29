// The program's process, between the fork in sandbox_init and execve: system calls only, as
// there (sandbox_plan.hpp says why).
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "probe/fd_passing.hpp"
#include "probe/sandbox_plan.hpp"
#include "probe/seccomp_filter.hpp"

namespace dslim::probe::detail {
namespace {

[[noreturn]] void fail(const ChildPlan& plan, Step step, int value = 0) {
  send_message(plan.sock, MsgType::Failed, step, errno, value);
  _exit(127);
}

[[noreturn]] void not_started(const ChildPlan& plan, Step step, int err, int value) {
  send_message(plan.sock, MsgType::NotStarted, step, err, value);
  _exit(127);
}

// Dispositions and mask as a fresh process has them: execve keeps SIG_IGN and the mask, and
// the supervisor's process may have set either.
void reset_signals() {
  struct sigaction sa {};
  sa.sa_handler = SIG_DFL;
  sigemptyset(&sa.sa_mask);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &sa, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
}

bool set_stdio(const ChildPlan& plan) {
  for (int i = 0; i < 3; ++i) {
    // The plan's fds are >= 3 (dup'ed by the supervisor), so no dup2 here clobbers another.
    int fd = plan.stdio[i] >= 0 ? plan.stdio[i] : open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd < 0 || dup2(fd, i) < 0) return false;
    close(fd);
  }
  return true;
}

// Hands the listener to the supervisor and waits for its word: the program's first traced
// call must find someone listening, and a supervisor that is gone must not let it run.
bool hand_over_listener(const ChildPlan& plan, int listener) {
  Message m{MsgType::Listener, Step::Seccomp, 0, 0};
  if (send_with_fd(plan.sock, &m, sizeof m, listener) < 0) return false;
  close(listener);
  Message ack{};
  ssize_t n;
  while ((n = recv(plan.sock, &ack, sizeof ack, 0)) < 0 && errno == EINTR) {
  }
  if (n != sizeof ack || ack.type != MsgType::Ack) _exit(127);
  return true;
}

// Root without a user namespace keeps a container runtime's default capabilities only
// (Docker's set): no mounts, module loading, raw I/O or ptrace of the supervisor.
bool drop_capabilities() {
  constexpr unsigned long long kKeep = (1ULL << 0) | (1ULL << 1) | (1ULL << 3) | (1ULL << 4) |
                                       (1ULL << 5) | (1ULL << 6) | (1ULL << 7) | (1ULL << 8) |
                                       (1ULL << 10) | (1ULL << 13) | (1ULL << 18) | (1ULL << 27) |
                                       (1ULL << 29) | (1ULL << 31);
  for (int cap = 0; cap < 64; ++cap) {
    if (kKeep & (1ULL << cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
      if (errno == EINVAL) break;  // past the kernel's last capability
      return false;
    }
  }
  return true;
}

}  // namespace

void start_program(const ChildPlan& plan) {
  reset_signals();
  if (!set_stdio(plan)) fail(plan, Step::Stdio);
  if (chdir(plan.workdir.c_str()) != 0) not_started(plan, Step::Chdir, errno, 0);

  // The filter last but for ids and execve: every call after it is the program's. Installed
  // while we still hold CAP_SYS_ADMIN in the namespace, so no_new_privs is not needed.
  if (plan.trace) {
    int listener = install_filter(plan.filter);
    if (listener < 0) fail(plan, Step::Seccomp);
    if (!hand_over_listener(plan, listener)) fail(plan, Step::SendListener);
  }
  if (plan.drop_capabilities && !drop_capabilities()) fail(plan, Step::DropCapabilities);
  if (plan.set_ids) {
    // setgroups is EPERM only where an enclosing user namespace denies it (dslim itself run in
    // one): the groups cannot be changed there at all.
    if ((setgroups(0, nullptr) != 0 && errno != EPERM) || setgid(plan.gid) != 0 ||
        setuid(plan.uid) != 0) {
      fail(plan, Step::SetIds);
    }
  }

  // execvpe's rules without its allocation: try each candidate; a missing one moves on, a
  // permission error is remembered in case nothing else is found.
  int err = ENOENT;
  int failed = 0;
  for (size_t i = 0; i < plan.candidates.size(); ++i) {
    execve(plan.candidates[i].c_str(), plan.argv.data(), plan.envp.data());
    if (errno == EACCES || err != EACCES) {
      err = errno;
      failed = static_cast<int>(i);
    }
    if (errno != ENOENT && errno != ENOTDIR && errno != EACCES) break;
  }
  // ENOENT for a file that exists means its interpreter is missing. fstatat with AT_EMPTY_PATH
  // is one of the calls the filter lets through, so this check is not recorded as the program's.
  struct stat st;
  bool exists = fstatat(AT_FDCWD, plan.candidates[static_cast<size_t>(failed)].c_str(), &st,
                        AT_EMPTY_PATH) == 0;
  not_started(plan, Step::Exec, err, exists ? -1 - failed : failed);
}

}  // namespace dslim::probe::detail
