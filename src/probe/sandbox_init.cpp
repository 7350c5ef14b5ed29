// The sandbox's PID 1. Everything here runs in a raw clone of the supervisor: system calls only,
// no allocation (sandbox_plan.hpp says why), and every failure is a Failed message naming the
// step, after which the process ends: nothing is ever run in a half-made sandbox.
#include <fcntl.h>
#include <grp.h>
#include <linux/mount.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "probe/sandbox_plan.hpp"

namespace dslim::probe::detail {

void send_message(int sock, MsgType type, Step step, int err, int value) {
  Message m{type, step, err, value};
  while (send(sock, &m, sizeof m, MSG_NOSIGNAL) < 0 && errno == EINTR) {
  }
}

namespace {

[[noreturn]] void fail(const ChildPlan& plan, Step step, int value = 0) {
  send_message(plan.sock, MsgType::Failed, step, errno, value);
  _exit(1);
}

// Every inherited fd but the plan's: the supervisor's process may hold host directories open,
// and any of them would be a way out of the new root.
bool close_other_fds(const ChildPlan& plan) {
  unsigned first = 3;
  for (int fd : plan.keep_fds) {
    if (static_cast<unsigned>(fd) > first &&
        syscall(SYS_close_range, first, static_cast<unsigned>(fd) - 1, 0) != 0) {
      return false;
    }
    first = static_cast<unsigned>(fd) + 1;
  }
  return syscall(SYS_close_range, first, ~0U, 0) == 0;
}

// A directory at `path` in the new root: whatever else the source has there is hidden (the
// overlay whites it out), so a mount never follows a source's symlink.
bool ensure_dir(const char* path, mode_t mode) {
  struct stat st;
  if (lstat(path, &st) == 0) {
    if (S_ISDIR(st.st_mode)) return true;
    if (unlink(path) != 0) return false;
  }
  return mkdir(path, mode) == 0 || errno == EEXIST;
}

bool copy_fd(int in, int out) {
  off_t offset = 0;
  for (;;) {
    ssize_t n = sendfile(out, in, &offset, 1 << 30);
    if (n > 0 || (n < 0 && errno == EINTR)) continue;
    return n == 0;
  }
}

// A spec.files entry, into a layer that is ours and empty (file_placement.hpp).
bool place_file(const PlacedFile& file) {
  for (const auto& [dir, mode] : file.dirs) {
    if (mkdir(dir.c_str(), mode) != 0 && errno != EEXIST) return false;
  }
  int out = open(file.target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (out < 0) return false;
  int err = copy_fd(file.fd, out) ? 0 : errno;
  // The mode after the copy: open's mode went through the umask.
  if (err == 0 && fchmod(out, file.mode) != 0) err = errno;
  close(out);
  close(file.fd);
  errno = err;
  return err == 0;
}

void write_placed_files(const ChildPlan& plan, int op) {
  for (size_t i = 0; i < plan.files.size(); ++i) {
    if (plan.files[i].op == op && !place_file(plan.files[i])) {
      fail(plan, Step::PlaceFile, static_cast<int>(i));
    }
  }
}

bool loopback_up() {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return false;
  ifreq ifr{};
  memcpy(ifr.ifr_name, "lo", 3);
  bool ok = ioctl(s, SIOCGIFFLAGS, &ifr) == 0;
  if (ok) {
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
    ok = ioctl(s, SIOCSIFFLAGS, &ifr) == 0;
  }
  int err = errno;
  close(s);
  errno = err;
  return ok;
}

// PID 1 gets only the signals it handles. The supervisor's SIGTERM at the timeout (and a ^C) is
// passed on to every process of the namespace; SIGKILL needs no help: PID 1's death ends them all.
void forward_signal(int sig) {
  kill(-1, sig);
}

bool install_signal_handlers(int stop_signal) {
  struct sigaction sa {};
  sa.sa_handler = forward_signal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, stop_signal}) {
    if (sig != SIGKILL && sig != SIGSTOP && sigaction(sig, &sa, nullptr) != 0) return false;
  }
  // SIGCHLD as the supervisor may have set it (SIG_IGN would reap behind our back).
  sa.sa_handler = SIG_DFL;
  if (sigaction(SIGCHLD, &sa, nullptr) != 0) return false;
  sigset_t none;
  sigemptyset(&none);
  return sigprocmask(SIG_SETMASK, &none, nullptr) == 0;
}

// One step of the root's layout (root_layout.hpp). Everything it creates lies in tmpfs we made.
bool build_root_op(const ChildPlan& plan, const RootOp& op, int index) {
  switch (op.kind) {
    case RootOpKind::Dir:
      return (mkdir(op.dest.c_str(), op.mode) == 0 || errno == EEXIST) &&
             chmod(op.dest.c_str(), op.mode) == 0;
    case RootOpKind::Symlink:
      return symlink(op.text.c_str(), op.dest.c_str()) == 0;
    case RootOpKind::File: {
      int out = open(op.dest.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (out < 0) return false;
      bool ok = copy_fd(op.fd, out) && fchmod(out, op.mode) == 0;
      int err = errno;
      close(out);
      close(op.fd);
      errno = err;
      return ok;
    }
    case RootOpKind::Overlay:
      if (mkdir(op.layer.c_str(), 0700) != 0 || mkdir(op.upper.c_str(), op.mode) != 0 ||
          chmod(op.upper.c_str(), op.mode) != 0 || mkdir(op.work.c_str(), 0700) != 0) {
        return false;
      }
      for (const std::string& dir : op.upper_dirs) {
        if (mkdir(dir.c_str(), 0755) != 0) return false;
      }
      if (op.idmapped >= 0) {
        // The idmapped lower into our namespace (overlayfs takes no detached mount), then onto
        // the number the mount options name.
        if (mkdir(op.lower.c_str(), 0700) != 0 ||
            syscall(SYS_move_mount, op.idmapped, "", AT_FDCWD, op.lower.c_str(),
                    MOVE_MOUNT_F_EMPTY_PATH) != 0) {
          return false;
        }
        int fd = open(op.lower.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || dup3(fd, op.fd, O_CLOEXEC) < 0) return false;
        close(fd);
        close(op.idmapped);
      }
      // The upper layer must not change under a mounted overlay: the files go in first.
      write_placed_files(plan, index);
      if (plan.composed_root && mkdir(op.dest.c_str(), 0755) != 0 && errno != EEXIST) return false;
      if (mount("dslim-probe", op.dest.c_str(), "overlay", MS_NODEV, op.text.c_str()) != 0) {
        return false;
      }
      close(op.fd);
      return true;
  }
  return false;
}

// The lower layers again, by path, now that we are in our own mount namespace: overlayfs takes
// only mounts of the caller's namespace, and the supervisor's descriptors are of the host's.
// Reopened onto the same numbers, which the mount options name. Before the ids change: as root,
// the host's uid 0 may pass a private directory of root's (mktemp -d) on the way to the source;
// the sandbox's root is not the host's and may not.
void open_lower_layers(const ChildPlan& plan) {
  for (size_t i = 0; i < plan.root_ops.size(); ++i) {
    const RootOp& op = plan.root_ops[i];
    if (op.kind != RootOpKind::Overlay || op.idmapped >= 0) continue;
    int fd = open(op.source.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || dup3(fd, op.fd, O_CLOEXEC) < 0) fail(plan, Step::OpenLower, static_cast<int>(i));
    close(fd);
  }
}

// Mounts before pivot_root: the scratch tmpfs and the root over the source.
void mount_layers(const ChildPlan& plan) {
  // Nothing mounted here propagates to the host's namespace.
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    fail(plan, Step::MakePrivate);
  if (mount("dslim-scratch", plan.scratch.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") !=
      0) {
    fail(plan, Step::MountScratch);
  }
  if (mkdir(plan.new_root.c_str(), 0755) != 0) fail(plan, Step::MkdirScratch);
  if (plan.composed_root &&
      mount("dslim-root", plan.new_root.c_str(), "tmpfs", MS_NODEV, "mode=0755") != 0) {
    fail(plan, Step::MountRoot);
  }
  for (size_t i = 0; i < plan.root_ops.size(); ++i) {
    const RootOp& op = plan.root_ops[i];
    if (!build_root_op(plan, op, static_cast<int>(i))) {
      fail(plan, op.kind == RootOpKind::Overlay ? Step::MountOverlay : Step::BuildRoot,
           static_cast<int>(i));
    }
  }
  write_placed_files(plan, -1);  // into the composed root's tmpfs
  close(plan.root_fd);
}

// The new root becomes / and the old one is detached: from here on no path leads to the host.
void enter_new_root(const ChildPlan& plan) {
  if (chdir(plan.new_root.c_str()) != 0 || syscall(SYS_pivot_root, ".", ".") != 0) {
    fail(plan, Step::PivotRoot);
  }
  // pivot_root(".", ".") stacked the old root on top of the new one: unmount it.
  if (umount2(".", MNT_DETACH) != 0 || chdir("/") != 0) fail(plan, Step::DetachOldRoot);
}

// /proc and /dev in the new root, before pivot_root: a new proc may only be mounted where the
// namespace still shows a full one (the host's, until the old root is detached), and the
// host's device nodes are bound from their paths. ensure_dir keeps a source's symlink at
// /proc or /dev from taking the mount elsewhere.
void mount_proc_and_dev(const ChildPlan& plan) {
  if (!ensure_dir(plan.new_proc.c_str(), 0555) ||
      mount("proc", plan.new_proc.c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) !=
          0) {
    fail(plan, Step::MountProc);
  }
  if (!ensure_dir(plan.new_dev.c_str(), 0755) ||
      mount("dslim-dev", plan.new_dev.c_str(), "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755") != 0) {
    fail(plan, Step::MountDev);
  }
  for (int i = 0; i < kDeviceCount; ++i) {
    const char* host = plan.host_devices[static_cast<size_t>(i)].c_str();
    const char* dest = plan.new_devices[static_cast<size_t>(i)].c_str();
    struct stat st;
    if (i == kOptionalDevice && stat(host, &st) != 0) continue;
    if (mknod(dest, S_IFREG | 0666, 0) != 0 || mount(host, dest, nullptr, MS_BIND, nullptr) != 0) {
      fail(plan, Step::MakeDevice, i);
    }
  }
}

// What programs expect in /dev beside the nodes (after pivot_root, in our own tmpfs); failures
// here are not worth refusing a probe for.
void dev_links() {
  symlink("/proc/self/fd", "/dev/fd");
  symlink("/proc/self/fd/0", "/dev/stdin");
  symlink("/proc/self/fd/1", "/dev/stdout");
  symlink("/proc/self/fd/2", "/dev/stderr");
  mkdir("/dev/shm", 01777);
  chmod("/dev/shm", 01777);
}

[[noreturn]] void reap_until_empty(const ChildPlan& plan, pid_t program) {
  for (;;) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, __WALL);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;  // ECHILD: the namespace is empty
    }
    if (pid == program) send_message(plan.sock, MsgType::Exited, Step::CloseFds, 0, status);
  }
  _exit(0);
}

}  // namespace

void sandbox_init(const ChildPlan& plan) {
  if (!close_other_fds(plan)) fail(plan, Step::CloseFds);
  // The supervisor writes our id maps, then says go; EOF means it is gone.
  Message go{};
  while (recv(plan.sock, &go, sizeof go, 0) < 0 && errno == EINTR) {
  }
  if (go.type != MsgType::Go) _exit(1);
  open_lower_layers(plan);
  // As root, we entered the namespace as the host's uid 0, which is not mapped in it: become the
  // sandbox's root, or the files we create in our own tmpfs would have no owner (EOVERFLOW).
  if (plan.user_namespace && plan.set_ids &&
      (setresgid(0, 0, 0) != 0 || setgroups(0, nullptr) != 0 || setresuid(0, 0, 0) != 0)) {
    fail(plan, Step::SetIds);
  }
  // The supervisor's death ends PID 1, and with it the namespace. Set after the id change,
  // which clears it; if the supervisor died before, its end of the socket is closed.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  pollfd peer{plan.sock, POLLRDHUP, 0};
  if (poll(&peer, 1, 0) != 0) _exit(1);

  umask(022);
  mount_layers(plan);
  mount_proc_and_dev(plan);
  enter_new_root(plan);
  dev_links();
  if (sethostname("dslim-probe", 11) != 0) fail(plan, Step::Hostname);
  if (!loopback_up()) fail(plan, Step::Loopback);
  if (!install_signal_handlers(plan.stop_signal)) fail(plan, Step::Signals);

  send_message(plan.sock, MsgType::Ready);
  if (plan.dry_run) _exit(0);

  // A raw clone, like our own: glibc's fork would run atfork handlers and take locks.
  pid_t program = static_cast<pid_t>(syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0));
  if (program < 0) fail(plan, Step::ForkProgram);
  if (program == 0) start_program(plan);
  // Our copies of the program's stdio would keep a pipe open until the whole tree ends.
  for (int fd : plan.stdio) {
    if (fd >= 0) close(fd);
  }
  reap_until_empty(plan, program);
}

}  // namespace dslim::probe::detail
