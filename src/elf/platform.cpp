// ELF machine numbers to OCI platform fields and to human-readable names.
#include <string>

#include "dslim/elf.hpp"

namespace dslim::elf {
namespace {

// e_machine values (elf.h).
constexpr uint16_t kEm386 = 3;
constexpr uint16_t kEmMips = 8;
constexpr uint16_t kEmPpc = 20;
constexpr uint16_t kEmPpc64 = 21;
constexpr uint16_t kEmS390 = 22;
constexpr uint16_t kEmArm = 40;
constexpr uint16_t kEmX8664 = 62;
constexpr uint16_t kEmAarch64 = 183;
constexpr uint16_t kEmRiscv = 243;
constexpr uint16_t kEmLoongarch = 258;

// GOARCH spelling, which OCI's `architecture` uses; empty when OCI has no name.
std::string goarch(const ElfInfo& info) {
  const bool is64 = info.elf_class == ElfClass::Elf64;
  const bool le = info.little_endian;
  switch (info.machine) {
    case kEmX8664:
      return is64 ? "amd64" : "";  // x32 has no OCI name
    case kEm386:
      return "386";
    case kEmAarch64:
      return is64 ? "arm64" : "";
    case kEmArm:
      return "arm";
    case kEmPpc64:
      return le ? "ppc64le" : "ppc64";
    case kEmS390:
      return is64 ? "s390x" : "";
    case kEmRiscv:
      return is64 ? "riscv64" : "";
    case kEmMips:
      if (is64) return le ? "mips64le" : "mips64";
      return le ? "mipsle" : "mips";
    case kEmLoongarch:
      return is64 ? "loong64" : "";
    default:
      return "";
  }
}

}  // namespace

Platform platform_of(const ElfInfo& info) {
  Platform p;
  p.architecture = goarch(info);
  // OCI names ARM variants; ELF headers do not say which, and v7 is what
  // 32-bit Linux distributions build for.
  if (p.architecture == "arm") p.variant = "v7";
  return p;
}

std::string machine_name(uint16_t machine) {
  switch (machine) {
    case kEm386:
      return "Intel 80386";
    case kEmMips:
      return "MIPS";
    case kEmPpc:
      return "PowerPC";
    case kEmPpc64:
      return "PowerPC64";
    case kEmS390:
      return "IBM S/390";
    case kEmArm:
      return "ARM";
    case kEmX8664:
      return "x86-64";
    case kEmAarch64:
      return "AArch64";
    case kEmRiscv:
      return "RISC-V";
    case kEmLoongarch:
      return "LoongArch";
    default:
      return "EM_" + std::to_string(machine);
  }
}

}  // namespace dslim::elf
