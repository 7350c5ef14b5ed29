#include "probe/tracer.hpp"

#include <fcntl.h>
#include <linux/audit.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "dslim/error.hpp"
#include "probe/binfmt.hpp"
#include "probe/remote_process.hpp"

// Linux 6.6: wake the traced thread on the supervisor's CPU when answering, which halves the
// round trip of this strict ping-pong. Older kernels say EINVAL and work as before.
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

namespace dslim::probe::detail {
namespace {

constexpr uint64_t kAtEmptyPath = 0x1000;

// The call names of refused foreign-ABI calls, built once per number seen.
const char* foreign_call_name(uint32_t arch, int nr, std::string& scratch) {
  scratch = (arch != AUDIT_ARCH_X86_64 ? "i386:" : "x32:") +
            std::to_string(nr & ~static_cast<int>(kX32Bit));
  return scratch.c_str();
}

}  // namespace

Tracer::Tracer(UniqueFd listener,
               const std::function<void(AccessKind, const std::string&)>& before_access)
    : listener_(std::move(listener)), before_access_(before_access) {
  seccomp_notif_sizes sizes{};
  if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0) {
    throw Error(std::string("cannot read seccomp's notification sizes: ") + std::strerror(errno));
  }
  request_.resize(std::max<size_t>(sizes.seccomp_notif, sizeof(seccomp_notif)));
  response_.resize(std::max<size_t>(sizes.seccomp_notif_resp, sizeof(seccomp_notif_resp)));
  uint64_t flags = SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP;
  ioctl(listener_.get(), SECCOMP_IOCTL_NOTIF_SET_FLAGS, flags);
}

int Tracer::sandbox_pid(pid_t tid) {
  auto [it, fresh] = sandbox_pids_.try_emplace(tid, 0);
  if (fresh || it->second == 0) it->second = namespace_tgid(tid);
  return it->second;
}

void Tracer::add(AccessKind kind, int pid, const char* call, bool write) {
  if (before_access_ && kind != AccessKind::Refused) before_access_(kind, path_);
  pending_.push_back(Access{kind, path_, pid, call, write});
}

// The absolute path of one operand into path_; false when there is none to record (an
// unreadable pointer, an empty path without AT_EMPTY_PATH, a descriptor that is no path): the
// call itself then fails, and touched nothing.
bool Tracer::operand_path(const seccomp_notif& req, const SyscallRule& rule, const Operand& op) {
  const pid_t tid = static_cast<pid_t>(req.pid);
  const int dirfd = op.dirfd >= 0 ? static_cast<int>(req.data.args[op.dirfd]) : AT_FDCWD;
  if (op.path < 0) return remote_dir_path(tid, dirfd, path_);
  const uint64_t addr = req.data.args[op.path];
  if (addr == 0) {
    arg_.clear();
  } else if (!read_remote_string(tid, addr, arg_)) {
    return false;
  }
  if (arg_.empty()) {
    bool names_fd = rule.empty_path_is_fd ||
                    (rule.flags == FlagsArg::At && (req.data.args[rule.flags_arg] & kAtEmptyPath));
    return names_fd && remote_dir_path(tid, dirfd, path_);
  }
  if (arg_[0] == '/') {
    path_ = arg_;
    return true;
  }
  if (!remote_dir_path(tid, dirfd, path_)) return false;
  if (path_.back() != '/') path_ += '/';
  path_ += arg_;
  return true;
}

void Tracer::collect(const seccomp_notif& req, const SyscallRule& rule, int pid) {
  const pid_t tid = static_cast<pid_t>(req.pid);
  for (const Operand* op : {&rule.first, &rule.second}) {
    if (!op->present() || !operand_path(req, rule, *op)) continue;
    AccessKind kind = op->kind;
    bool write = op->write;
    if (rule.flags == FlagsArg::Open || rule.flags == FlagsArg::OpenHow) {
      uint64_t flags = req.data.args[rule.flags_arg];
      if (rule.flags == FlagsArg::OpenHow && !read_remote(tid, flags, &flags, sizeof flags)) {
        flags = 0;
      }
      if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) {
        kind = AccessKind::Create;
        write = true;
      } else if ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC)) {
        write = true;
      }
    }
    add(kind, pid, rule.name, write);
    if (kind == AccessKind::Exec) {
      // Looked up before answering: after a successful execve the process is another program.
      std::string program = path_;
      auto before_read = [&](const std::string& file) {
        if (before_access_) before_access_(AccessKind::Exec, file);
      };
      for (Interpreter& interp : kernel_interpreters(tid, program, before_read)) {
        path_ = std::move(interp.path);
        add(AccessKind::Exec, pid, interp.how, false);
      }
    }
  }
}

void Tracer::handle(std::vector<Access>& out) {
  auto* req = reinterpret_cast<seccomp_notif*>(request_.data());
  std::memset(req, 0, request_.size());
  if (ioctl(listener_.get(), SECCOMP_IOCTL_NOTIF_RECV, req) != 0) return;  // the caller is gone

  pending_.clear();
  const int pid = sandbox_pid(static_cast<pid_t>(req->pid));
  const int nr = req->data.nr;
  bool refuse = false;
  if (req->data.arch != AUDIT_ARCH_X86_64 || (static_cast<uint32_t>(nr) & kX32Bit)) {
    refuse = true;
    path_.clear();
    add(AccessKind::Refused, pid, foreign_call_name(req->data.arch, nr, arg_), false);
  } else if (const SyscallRule* rule = rule_for(nr)) {
    if (rule->refuse) {
      refuse = true;
      path_.clear();
      add(AccessKind::Refused, pid, rule->name, false);
    } else {
      collect(*req, *rule, pid);
    }
  }

  // Everything above read the process: it counts only if the call is still waiting for us
  // (the pid might otherwise belong to a new process by now).
  bool valid = ioctl(listener_.get(), SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) == 0;

  auto* resp = reinterpret_cast<seccomp_notif_resp*>(response_.data());
  std::memset(resp, 0, response_.size());
  resp->id = req->id;
  resp->error = refuse ? -EPERM : 0;
  resp->flags = refuse ? 0 : SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  ioctl(listener_.get(), SECCOMP_IOCTL_NOTIF_SEND, resp);  // ENOENT: interrupted meanwhile

  if (!valid) return;
  for (Access& access : pending_) {
    if (!out.empty() && out.back() == access) continue;
    out.push_back(std::move(access));
  }
}

}  // namespace dslim::probe::detail
