#pragma once
// The x86-64 system calls the tracer is told about, and where their paths are. One table serves
// the seccomp filter (which numbers notify) and the tracer (how to read a notification), so the
// two cannot disagree.
#include <cstdint>
#include <span>

#include "dslim/probe.hpp"

namespace dslim::probe::detail {

// How a call's flags argument changes what it records.
enum class FlagsArg : uint8_t {
  None,
  Open,     // open(2) flags: O_CREAT -> Create, a write mode or O_TRUNC -> write
  OpenHow,  // a pointer to struct open_how whose first field is the open(2) flags
  At,       // AT_* flags: AT_EMPTY_PATH makes an empty path name the directory fd itself
};

// One path a call names. `dirfd` and `path` are argument indexes; -1 means absent:
//   dirfd -1, path i   a path, relative to the working directory
//   dirfd d,  path i   a path relative to the directory fd d (AT_FDCWD: the working directory)
//   dirfd d,  path -1  the fd d itself (getdents64, fchdir)
struct Operand {
  int8_t dirfd = -1;
  int8_t path = -1;
  AccessKind kind = AccessKind::Stat;
  bool write = false;
  bool present() const { return dirfd >= 0 || path >= 0; }
};

struct SyscallRule {
  int nr;
  const char* name;
  Operand first;
  Operand second;  // rename's, link's and symlink's other name
  int8_t flags_arg = -1;
  FlagsArg flags = FlagsArg::None;
  bool empty_path_is_fd = false;  // an empty or NULL path names the fd (readlinkat, utimensat)
  bool refuse = false;            // answered with EPERM and recorded as Refused

  constexpr SyscallRule with_flags(int arg, FlagsArg kind) const {
    SyscallRule r = *this;
    r.flags_arg = static_cast<int8_t>(arg);
    r.flags = kind;
    return r;
  }
  constexpr SyscallRule with_empty_path_fd() const {
    SyscallRule r = *this;
    r.empty_path_is_fd = true;
    return r;
  }
  constexpr SyscallRule refused() const {
    SyscallRule r = *this;
    r.refuse = true;
    return r;
  }
};

// The rule for a native x86-64 call, or nullptr when the filter lets it through.
const SyscallRule* rule_for(int nr);
// Every rule, for the filter.
std::span<const SyscallRule> all_rules();

// Calls of the 32-bit (int 0x80) and x32 ABIs that are let through so that a process using them
// can still end: everything else of those ABIs is refused.
inline constexpr uint32_t kX32Bit = 0x40000000;
std::span<const uint32_t> allowed_i386_calls();
std::span<const uint32_t> allowed_x32_calls();

// The syscall numbers whose AT_EMPTY_PATH form is fstat (glibc's fstat is newfstatat(fd, "",
// AT_EMPTY_PATH), Rust's is statx): the filter lets those through without a notification.
inline constexpr int kNewfstatat = 262;
inline constexpr int kStatx = 332;

}  // namespace dslim::probe::detail
