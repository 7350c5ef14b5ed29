#include "probe/syscall_table.hpp"

#include <array>

namespace dslim::probe::detail {
namespace {

using K = AccessKind;

constexpr Operand path(int arg, K kind, bool write = false) {
  return {.dirfd = -1, .path = static_cast<int8_t>(arg), .kind = kind, .write = write};
}
constexpr Operand at(int dirfd, int arg, K kind, bool write = false) {
  return {.dirfd = static_cast<int8_t>(dirfd),
          .path = static_cast<int8_t>(arg),
          .kind = kind,
          .write = write};
}
constexpr SyscallRule call(int nr, const char* name, Operand first = {}, Operand second = {}) {
  SyscallRule r{};
  r.nr = nr;
  r.name = name;
  r.first = first;
  r.second = second;
  return r;
}
constexpr Operand fd(int arg, K kind) {
  return {.dirfd = static_cast<int8_t>(arg), .path = -1, .kind = kind, .write = false};
}

// Numbers from arch/x86/entry/syscalls/syscall_64.tbl. Each call's path arguments are listed in
// the order the kernel looks them up. fstat/fstatfs/fchmod/fchown/ftruncate take an fd that an
// open already recorded, so they need no notification.
constexpr std::array kRules{
    call(2, "open", path(0, K::Open)).with_flags(1, FlagsArg::Open),
    call(4, "stat", path(0, K::Stat)),
    call(6, "lstat", path(0, K::Stat)),
    call(21, "access", path(0, K::Stat)),
    call(59, "execve", path(0, K::Exec)),
    call(76, "truncate", path(0, K::SetAttr, true)),
    call(78, "getdents", fd(0, K::List)),
    call(80, "chdir", path(0, K::Chdir)),
    call(81, "fchdir", fd(0, K::Chdir)),
    call(82, "rename", path(0, K::Rename, true), path(1, K::Rename, true)),
    call(83, "mkdir", path(0, K::Mkdir, true)),
    call(84, "rmdir", path(0, K::Unlink, true)),
    call(85, "creat", path(0, K::Create, true)),
    call(86, "link", path(0, K::Stat), path(1, K::Create, true)),
    call(87, "unlink", path(0, K::Unlink, true)),
    // symlink's first argument is the link's text, not a path the kernel looks up.
    call(88, "symlink", path(1, K::Create, true)),
    call(89, "readlink", path(0, K::Readlink)),
    call(90, "chmod", path(0, K::SetAttr, true)),
    call(92, "chown", path(0, K::SetAttr, true)),
    call(94, "lchown", path(0, K::SetAttr, true)),
    call(132, "utime", path(0, K::SetAttr, true)),
    call(133, "mknod", path(0, K::Create, true)),
    call(217, "getdents64", fd(0, K::List)),
    call(235, "utimes", path(0, K::SetAttr, true)),
    call(257, "openat", at(0, 1, K::Open)).with_flags(2, FlagsArg::Open),
    call(258, "mkdirat", at(0, 1, K::Mkdir, true)),
    call(259, "mknodat", at(0, 1, K::Create, true)),
    call(260, "fchownat", at(0, 1, K::SetAttr, true)).with_flags(4, FlagsArg::At),
    call(261, "futimesat", at(0, 1, K::SetAttr, true)),
    call(kNewfstatat, "newfstatat", at(0, 1, K::Stat)).with_flags(3, FlagsArg::At),
    call(263, "unlinkat", at(0, 1, K::Unlink, true)),
    call(264, "renameat", at(0, 1, K::Rename, true), at(2, 3, K::Rename, true)),
    call(265, "linkat", at(0, 1, K::Stat), at(2, 3, K::Create, true)).with_flags(4, FlagsArg::At),
    call(266, "symlinkat", at(1, 2, K::Create, true)),
    call(267, "readlinkat", at(0, 1, K::Readlink)).with_empty_path_fd(),
    call(268, "fchmodat", at(0, 1, K::SetAttr, true)),
    call(269, "faccessat", at(0, 1, K::Stat)),
    // utimensat(fd, NULL, ...) is futimens.
    call(280, "utimensat", at(0, 1, K::SetAttr, true))
        .with_flags(3, FlagsArg::At)
        .with_empty_path_fd(),
    call(303, "name_to_handle_at", at(0, 1, K::Stat)).with_flags(4, FlagsArg::At),
    // A file handle names a file by inode, past every path check: refused.
    call(304, "open_by_handle_at").refused(),
    call(316, "renameat2", at(0, 1, K::Rename, true), at(2, 3, K::Rename, true)),
    call(322, "execveat", at(0, 1, K::Exec)).with_flags(4, FlagsArg::At),
    call(kStatx, "statx", at(0, 1, K::Stat)).with_flags(2, FlagsArg::At),
    // io_uring does opens and stats from a kernel thread, out of the filter's sight: refused.
    call(425, "io_uring_setup").refused(),
    call(437, "openat2", at(0, 1, K::Open)).with_flags(2, FlagsArg::OpenHow),
    call(439, "faccessat2", at(0, 1, K::Stat)).with_flags(3, FlagsArg::At),
    call(452, "fchmodat2", at(0, 1, K::SetAttr, true)).with_flags(3, FlagsArg::At),
};

constexpr int kMaxNr = 512;

// nr -> index into kRules + 1 (0: not traced), built once.
struct Index {
  std::array<uint8_t, kMaxNr> slot{};
  constexpr Index() {
    for (size_t i = 0; i < kRules.size(); ++i) slot[kRules[i].nr] = static_cast<uint8_t>(i + 1);
  }
};
constexpr Index kIndex;

// exit, sigreturn, rt_sigreturn, exit_group (arch/x86/entry/syscalls/syscall_32.tbl).
constexpr std::array<uint32_t, 4> kI386Allowed{1, 119, 173, 252};
// exit, exit_group, rt_sigreturn (x32 numbers, without the x32 bit).
constexpr std::array<uint32_t, 3> kX32Allowed{60, 231, 513};

}  // namespace

const SyscallRule* rule_for(int nr) {
  if (nr < 0 || nr >= kMaxNr || kIndex.slot[nr] == 0) return nullptr;
  return &kRules[kIndex.slot[nr] - 1];
}

std::span<const SyscallRule> all_rules() {
  return kRules;
}
std::span<const uint32_t> allowed_i386_calls() {
  return kI386Allowed;
}
std::span<const uint32_t> allowed_x32_calls() {
  return kX32Allowed;
}

}  // namespace dslim::probe::detail
