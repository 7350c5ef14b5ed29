#include "probe/sandbox.hpp"

#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "dslim/error.hpp"
#include "probe/idmapped_lowers.hpp"
#include "probe/seccomp_filter.hpp"

namespace dslim::probe::detail {
namespace {

constexpr unsigned long long kNamespaces =
    CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET;
// Where the sandbox's ids lie on the host, as root: above systemd's container range
// (524288-1878982655) and below its foreign range (0x7FFE0000).
static_assert(kSandboxIdBase > 1878982655u && kSandboxIdBase + kSandboxIdCount < 0x7FFE0000u);
// What a container runtime puts in a program's PATH when its environment has none.
constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

[[noreturn]] void fail(const std::string& what, int err = errno) {
  throw Error(what + ": " + std::strerror(err));
}

std::string path_of(const std::vector<std::string>& env) {
  for (const std::string& kv : env) {
    if (kv.starts_with("PATH=")) return kv.substr(5);
  }
  return kDefaultPath;
}

// argv[0] itself when it has a slash, else its PATH lookups in order (an empty PATH element is
// the working directory, as POSIX has it).
std::vector<std::string> exec_candidates(const ProbeSpec& spec) {
  const std::string& name = spec.argv[0];
  if (name.find('/') != std::string::npos) return {name};
  std::vector<std::string> out;
  const std::string path = path_of(spec.env);
  std::string_view rest = path;
  for (;;) {
    size_t colon = rest.find(':');
    std::string_view dir = rest.substr(0, colon);
    out.push_back(dir.empty() ? name : std::string(dir) + (dir.ends_with('/') ? "" : "/") + name);
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  return out;
}

// Where the scratch tmpfs goes in the sandbox's own mount namespace (never seen by the host):
// any directory of the host will do, as the source is reached through a descriptor.
std::string scratch_mount_point() {
  for (const char* dir : {"/tmp", "/var/tmp", "/mnt", "/run"}) {
    struct stat st;
    if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) return dir;
  }
  throw Error("no directory to mount the sandbox's scratch layer on (/tmp, /var/tmp, /mnt, /run)");
}

}  // namespace

Sandbox::Sandbox(const ProbeSpec& spec, bool dry_run) : spec_(spec) {
  if (spec.argv.empty() || spec.argv[0].empty()) {
    throw Error("nothing to probe: the program's argv is empty");
  }
  ChildPlan& p = plan_;
  p.dry_run = dry_run;

  p.root_fd = open(spec.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (p.root_fd < 0) fail("cannot open the probe's root " + spec.root);
  child_fds_.emplace_back(p.root_fd);
  const int stdio[3] = {spec.stdin_fd, spec.stdout_fd, spec.stderr_fd};
  for (int i = 0; i < 3; ++i) {
    if (stdio[i] < 0) continue;
    // A copy above 2, so the program's dup2s into 0-2 cannot overwrite one another.
    p.stdio[i] = fcntl(stdio[i], F_DUPFD_CLOEXEC, 3);
    if (p.stdio[i] < 0)
      fail("cannot pass descriptor " + std::to_string(stdio[i]) + " to the probe");
    child_fds_.emplace_back(p.stdio[i]);
  }
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    fail("cannot create the sandbox's socket");
  }
  sock_.reset(pair[0]);
  p.sock = pair[1];
  child_fds_.emplace_back(p.sock);
  p.scratch = scratch_mount_point();
  p.new_root = p.scratch + "/root";
  RootLayout layout = plan_root(spec.root, p.root_fd, p.new_root, p.scratch, /*userxattr=*/true);
  p.composed_root = layout.composed;
  p.new_proc = p.new_root + "/proc";
  p.new_dev = p.new_root + "/dev";
  for (const char* name : kDevices) {
    p.host_devices.push_back(std::string("/dev/") + name);
    p.new_devices.push_back(p.new_dev + "/" + name);
  }
  // As root, the source's owners as the image will have them (idmapped_lowers.hpp); the
  // namespace is made below with the same map.
  if (geteuid() == 0) idmap_lowers(layout.ops, child_fds_);
  p.files = place_files(spec.files, spec.root, p.root_fd, layout, p.new_root, child_fds_);
  p.root_ops = std::move(layout.ops);
  for (UniqueFd& fd : layout.fds) child_fds_.push_back(std::move(fd));
  for (const UniqueFd& fd : child_fds_) p.keep_fds.push_back(fd.get());
  std::sort(p.keep_fds.begin(), p.keep_fds.end());
  p.uid = spec.uid;
  p.gid = spec.gid;
  p.workdir = spec.workdir.empty() ? "/" : spec.workdir;
  p.stop_signal = spec.stop_signal;
  p.candidates = exec_candidates(spec);
  p.argv_store = spec.argv;
  p.env_store = spec.env;
  for (std::string& s : p.argv_store) p.argv.push_back(s.data());
  p.argv.push_back(nullptr);
  for (std::string& s : p.env_store) p.envp.push_back(s.data());
  p.envp.push_back(nullptr);
  p.trace = spec.trace;
  if (p.trace) p.filter = build_filter();

  // A user namespace whenever the kernel gives one: as root with a range of ids mapped (so the
  // program's uid and gid work), else with ours mapped to spec.uid/gid. Root without user
  // namespaces goes on with root's rights, minus a container's dropped capabilities.
  const bool root = geteuid() == 0;
  p.user_namespace = true;
  p.set_ids = root;
  pid_ = launch(kNamespaces | CLONE_NEWUSER);
  if (pid_ < 0 && root &&
      (errno == EPERM || errno == ENOSPC || errno == EUSERS || errno == EINVAL ||
       errno == EACCES)) {
    p.user_namespace = false;
    p.drop_capabilities = true;
    for (RootOp& op : p.root_ops) {
      if (op.kind != RootOpKind::Overlay) continue;
      op.text = overlay_options(op, /*userxattr=*/false);
      op.idmapped = -1;  // ids are the host's here
    }
    pid_ = launch(kNamespaces);
  }
  if (pid_ < 0) {
    int err = errno;
    throw Error(std::string("cannot create the sandbox's namespaces: ") + std::strerror(err) +
                (p.user_namespace
                     ? " (user namespaces disabled? see kernel.unprivileged_userns_clone,"
                       " user.max_user_namespaces and"
                       " kernel.apparmor_restrict_unprivileged_userns)"
                     : ""));
  }
  child_fds_.clear();  // the child has its copies

  try {
    if (p.user_namespace) write_id_maps();
    Message go{MsgType::Go};
    if (send(sock_.get(), &go, sizeof go, MSG_NOSIGNAL) != sizeof go) {
      fail("cannot start the sandbox");
    }
  } catch (...) {
    signal(SIGKILL);
    reap();
    throw;
  }
}

Sandbox::~Sandbox() {
  if (pid_ > 0 && !reaped_) {
    signal(SIGKILL);
    reap();
  }
}

pid_t Sandbox::launch(unsigned long long flags) {
  int pidfd = -1;
  clone_args args{};
  args.flags = flags | CLONE_PIDFD;
  args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  // A raw clone3 (fork-like: no new stack) straight into the namespaces, so the child is their
  // PID 1. It only runs sandbox_init on the plan made above.
  long pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid == 0) sandbox_init(plan_);
  if (pid < 0) return -1;
  pidfd_.reset(pidfd);
  return static_cast<pid_t>(pid);
}

void Sandbox::write_id_maps() {
  auto write_file = [&](const char* name, const std::string& text) {
    std::string path = "/proc/" + std::to_string(pid_) + "/" + name;
    UniqueFd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd || write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
      fail(std::string("cannot write the sandbox's ") + name);
    }
  };
  if (geteuid() == 0) {
    // 0-65535 onto a range no host account uses, not onto the host's own ids: a process whose
    // uid is the host's 0, even inside a user namespace, may write the global sysctls in
    // /proc/sys (kernel.core_pattern runs a program as the host's root) and connect to the
    // source's root-only sockets. The cost: files owned by the host's root show as nobody's
    // inside, so a 0600 file of root's cannot be read (its open is still recorded).
    const std::string map =
        "0 " + std::to_string(kSandboxIdBase) + " " + std::to_string(kSandboxIdCount) + "\n";
    write_file("uid_map", map);
    write_file("gid_map", map);
  } else {
    // Unprivileged: one id each, and setgroups must be denied before a gid map is accepted.
    write_file("setgroups", "deny");
    write_file("uid_map", std::to_string(spec_.uid) + " " + std::to_string(geteuid()) + " 1\n");
    write_file("gid_map", std::to_string(spec_.gid) + " " + std::to_string(getegid()) + " 1\n");
  }
}

void Sandbox::signal(int sig) {
  if (pidfd_) syscall(SYS_pidfd_send_signal, pidfd_.get(), sig, nullptr, 0);
}

void Sandbox::reap() {
  if (reaped_ || pid_ <= 0) return;
  while (waitpid(pid_, nullptr, __WALL) < 0 && errno == EINTR) {
  }
  reaped_ = true;
}

std::string Sandbox::failure(Step step, int err, int value) const {
  auto index = [](int i, size_t size) {
    return static_cast<size_t>(std::clamp<int>(i, 0, static_cast<int>(size) - 1));
  };
  std::string what;
  switch (step) {
    case Step::CloseFds:
      what = "cannot close the descriptors the sandbox inherited";
      break;
    case Step::MakePrivate:
      what = "cannot make the sandbox's mounts private";
      break;
    case Step::MountScratch:
      what = "cannot mount the sandbox's scratch tmpfs";
      break;
    case Step::MkdirScratch:
      what = "cannot create the scratch layer's directories";
      break;
    case Step::OpenLower:
      what = "cannot open " + plan_.root_ops[index(value, plan_.root_ops.size())].source +
             " in the sandbox's mount namespace";
      break;
    case Step::MountRoot:
      what = "cannot mount the tmpfs of the sandbox's root";
      break;
    case Step::BuildRoot:
      what = "cannot copy " + plan_.root_ops[index(value, plan_.root_ops.size())].source +
             " into the sandbox's root";
      break;
    case Step::MountOverlay:
      what = "cannot mount an overlay over " +
             plan_.root_ops[index(value, plan_.root_ops.size())].source +
             " (overlayfs in a user namespace needs Linux 5.11; a lower layer must not hide"
             " mount points, be an overlay's upper layer or be nested twice)";
      break;
    case Step::PivotRoot:
      what = "cannot pivot_root into the sandbox's root";
      break;
    case Step::DetachOldRoot:
      what = "cannot detach the host's root from the sandbox";
      break;
    case Step::PlaceFile: {
      const auto& file = spec_.files[index(value, spec_.files.size())];
      what = "cannot place " + file.first + " at " + file.second + " in the sandbox (" +
             plan_.files[index(value, plan_.files.size())].target + ")";
      break;
    }
    case Step::MountProc:
      what = "cannot mount /proc in the sandbox";
      if (err == EPERM) what += " (a host /proc with masked paths, as in a container, forbids one)";
      break;
    case Step::MountDev:
      what = "cannot mount the sandbox's /dev";
      break;
    case Step::MakeDevice:
      what = std::string("cannot bind /dev/") + kDevices[index(value, kDeviceCount)] +
             " into the sandbox";
      break;
    case Step::Hostname:
      what = "cannot set the sandbox's hostname";
      break;
    case Step::Loopback:
      what = "cannot bring up the sandbox's loopback interface";
      break;
    case Step::Signals:
      what = "cannot install the sandbox's signal handlers";
      break;
    case Step::ForkProgram:
      what = "cannot fork the program's process in the sandbox";
      break;
    case Step::Stdio:
      what = "cannot set up the program's stdin, stdout and stderr";
      break;
    case Step::Seccomp:
      what = "cannot install the tracer's seccomp filter (user notification needs Linux 5.5)";
      break;
    case Step::SendListener:
      what = "cannot hand the seccomp listener to the supervisor";
      break;
    case Step::DropCapabilities:
      what = "cannot drop the sandbox's capabilities";
      break;
    case Step::SetIds:
      what = "cannot switch to uid " + std::to_string(spec_.uid) + " and gid " +
             std::to_string(spec_.gid) + " in the sandbox";
      break;
    case Step::Chdir:
    case Step::Exec:
      return not_started(step, err, value);
  }
  return what + ": " + std::strerror(err);
}

std::string Sandbox::not_started(Step step, int err, int value,
                                 const std::string& interpreter) const {
  if (step == Step::Chdir) {
    return "cannot change to the working directory " + plan_.workdir + ": " + std::strerror(err);
  }
  const bool exists = value < 0;
  const size_t i = static_cast<size_t>(exists ? -1 - value : value);
  const std::string& name = spec_.argv[0];
  const std::string& path = plan_.candidates[std::min(i, plan_.candidates.size() - 1)];
  if (err == ENOENT && name.find('/') == std::string::npos && !exists) {
    return "cannot execute " + name + ": not found on PATH (" + path_of(spec_.env) + ")";
  }
  std::string why;
  switch (err) {
    case ENOENT:
      if (!exists) {
        why = "no such file in the root";
      } else if (!interpreter.empty()) {
        why = "its interpreter " + interpreter + " is not in the root";
      } else {
        why =
            "its interpreter is missing (the ELF's PT_INTERP or the #! line names a file that"
            " is not in the root)";
      }
      break;
    case EACCES:
      why = "permission denied (not executable, a directory, or a noexec mount)";
      break;
    case ENOEXEC:
      why = "exec format error (not a program for this machine, or a script without #!)";
      break;
    default:
      why = std::strerror(err);
  }
  return "cannot execute " + path + ": " + why;
}

}  // namespace dslim::probe::detail
