#include "probe/seccomp_filter.hpp"

#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>

#include "probe/syscall_table.hpp"

namespace dslim::probe::detail {
namespace {

constexpr uint32_t kNotify = SECCOMP_RET_USER_NOTIF;
constexpr uint32_t kAllow = SECCOMP_RET_ALLOW;
constexpr uint32_t kAtEmptyPath = 0x1000;  // AT_EMPTY_PATH

constexpr uint32_t arg_low(int i) {
  // The low half of a 64-bit argument (little endian).
  return static_cast<uint32_t>(offsetof(seccomp_data, args) + 8 * i);
}

sock_filter stmt(uint16_t code, uint32_t k) {
  return BPF_STMT(code, k);
}
sock_filter jump(uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) {
  return BPF_JUMP(code, k, jt, jf);
}

// "nr == n ? RET notify : next", two instructions, so no jump ever needs a far target.
void notify_if(std::vector<sock_filter>& p, uint32_t nr) {
  p.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1));
  p.push_back(stmt(BPF_RET | BPF_K, kNotify));
}

// The calls of a foreign ABI: the listed ones allowed, the rest notified (and refused).
std::vector<sock_filter> foreign_block(std::span<const uint32_t> allowed, uint32_t bias) {
  std::vector<sock_filter> p;
  for (uint32_t nr : allowed) {
    p.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, nr | bias, 0, 1));
    p.push_back(stmt(BPF_RET | BPF_K, kAllow));
  }
  p.push_back(stmt(BPF_RET | BPF_K, kNotify));
  return p;
}

}  // namespace

std::vector<sock_filter> build_filter() {
  std::vector<sock_filter> p;
  p.push_back(stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)));
  // Not x86-64: the 32-bit ABI (int 0x80 from a 64-bit program, or a 32-bit program).
  auto i386 = foreign_block(allowed_i386_calls(), 0);
  p.push_back(
      jump(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, static_cast<uint8_t>(i386.size() + 1), 0));
  p.push_back(stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)));
  p.insert(p.end(), i386.begin(), i386.end());

  p.push_back(stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)));
  // x32 calls share the x86-64 arch value and set bit 30 of the number.
  auto x32 = foreign_block(allowed_x32_calls(), kX32Bit);
  p.push_back(jump(BPF_JMP | BPF_JGE | BPF_K, kX32Bit, 0, static_cast<uint8_t>(x32.size())));
  p.insert(p.end(), x32.begin(), x32.end());

  for (const SyscallRule& rule : all_rules()) {
    if (rule.nr == kNewfstatat || rule.nr == kStatx) {
      // fstat in disguise when AT_EMPTY_PATH is set: let it through, as fstat itself is.
      p.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(rule.nr), 0, 4));
      p.push_back(stmt(BPF_LD | BPF_W | BPF_ABS, arg_low(rule.flags_arg)));
      p.push_back(jump(BPF_JMP | BPF_JSET | BPF_K, kAtEmptyPath, 0, 1));
      p.push_back(stmt(BPF_RET | BPF_K, kAllow));
      p.push_back(stmt(BPF_RET | BPF_K, kNotify));
      continue;
    }
    notify_if(p, static_cast<uint32_t>(rule.nr));
  }
  p.push_back(stmt(BPF_RET | BPF_K, kAllow));
  return p;
}

int install_filter(const std::vector<sock_filter>& program) {
  sock_fprog prog{static_cast<unsigned short>(program.size()),
                  const_cast<sock_filter*>(program.data())};
  return static_cast<int>(
      syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog));
}

}  // namespace dslim::probe::detail
