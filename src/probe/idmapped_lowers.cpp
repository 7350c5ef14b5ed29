#include "probe/idmapped_lowers.hpp"

#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "dslim/probe.hpp"

namespace dslim::probe::detail {
namespace {

// A user namespace with the sandbox's id map, for mount_setattr: a process is made in one, its
// maps written, its namespace kept open, and the process ended.
UniqueFd sandbox_id_namespace() {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return UniqueFd();
  UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
  // A raw clone: system calls only in the child (the supervisor may have threads).
  long pid = syscall(SYS_clone, SIGCHLD | CLONE_NEWUSER, 0, 0, 0, 0);
  if (pid == 0) {
    close(write_end.get());  // so that the parent's close is our EOF
    char c;
    while (read(read_end.get(), &c, 1) < 0 && errno == EINTR) {
    }
    _exit(0);
  }
  if (pid < 0) return UniqueFd();
  const std::string proc = "/proc/" + std::to_string(pid) + "/";
  const std::string map =
      "0 " + std::to_string(kSandboxIdBase) + " " + std::to_string(kSandboxIdCount) + "\n";
  bool ok = true;
  for (const char* name : {"uid_map", "gid_map"}) {
    UniqueFd fd(open((proc + name).c_str(), O_WRONLY | O_CLOEXEC));
    ok = ok && fd && write(fd.get(), map.data(), map.size()) == static_cast<ssize_t>(map.size());
  }
  UniqueFd ns(ok ? open((proc + "ns/user").c_str(), O_RDONLY | O_CLOEXEC) : -1);
  write_end.reset();  // the child's read ends
  while (waitpid(static_cast<pid_t>(pid), nullptr, 0) < 0 && errno == EINTR) {
  }
  return ns;
}

}  // namespace

bool idmap_lowers(std::vector<RootOp>& ops, std::vector<UniqueFd>& fds) {
  UniqueFd ns = sandbox_id_namespace();
  if (!ns) return false;
  std::vector<UniqueFd> trees;
  for (const RootOp& op : ops) {
    if (op.kind != RootOpKind::Overlay) continue;
    UniqueFd tree(static_cast<int>(
        syscall(SYS_open_tree, op.fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH)));
    mount_attr attr{};
    attr.attr_set = MOUNT_ATTR_IDMAP;
    attr.userns_fd = static_cast<uint64_t>(ns.get());
    if (!tree ||
        syscall(SYS_mount_setattr, tree.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) != 0) {
      return false;
    }
    trees.push_back(std::move(tree));
  }
  size_t i = 0;
  for (RootOp& op : ops) {
    if (op.kind != RootOpKind::Overlay) continue;
    op.idmapped = trees[i].get();
    op.lower = op.layer + "/l";
    fds.push_back(std::move(trees[i++]));
  }
  return true;
}

}  // namespace dslim::probe::detail
