// Whether a program for another machine can run in the sandbox: only through an interpreter
// the kernel's binfmt_misc runs for it (qemu-user), registered with the F flag so that the
// kernel opened it at registration: the sandbox's root, the source, has no qemu of this machine.
#include <dirent.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "dslim/probe.hpp"

namespace dslim::probe {
namespace {

constexpr uint16_t kEm386 = 3, kEmX86_64 = 62;

std::string machine_name(uint16_t machine) {
  switch (machine) {
    case 3:
      return "i386";
    case 8:
      return "MIPS";
    case 20:
      return "PowerPC";
    case 21:
      return "PowerPC64";
    case 22:
      return "S/390";
    case 40:
      return "ARM";
    case 62:
      return "x86-64";
    case 183:
      return "AArch64";
    case 243:
      return "RISC-V";
    case 258:
      return "LoongArch";
  }
  return "EM_" + std::to_string(machine);
}

std::vector<uint8_t> hex_bytes(const std::string& hex) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoul(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

struct BinfmtEntry {
  bool enabled = false, fix_binary = false;
  std::string interpreter;
  size_t offset = 0;
  std::vector<uint8_t> magic, mask;  // a magic entry's; empty for an extension entry
};

BinfmtEntry read_entry(const std::string& path) {
  BinfmtEntry e;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string key, value;
    words >> key >> value;
    if (key == "enabled") e.enabled = true;
    if (key == "interpreter") e.interpreter = value;
    if (key == "flags:") e.fix_binary = value.find('F') != std::string::npos;
    if (key == "offset") e.offset = std::stoul(value);
    if (key == "magic") e.magic = hex_bytes(value);
    if (key == "mask") e.mask = hex_bytes(value);
  }
  return e;
}

bool matches(const BinfmtEntry& e, std::span<const std::byte> head) {
  if (e.magic.empty() || e.offset + e.magic.size() > head.size()) return false;
  for (size_t i = 0; i < e.magic.size(); ++i) {
    uint8_t byte = static_cast<uint8_t>(head[e.offset + i]);
    if (i < e.mask.size()) byte &= e.mask[i];
    if (byte != e.magic[i]) return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> foreign_program_problem(const std::string& program,
                                                   std::span<const std::byte> head,
                                                   const std::string& binfmt_dir) {
  if (head.size() < 20 || std::memcmp(head.data(),
                                      "\x7f"
                                      "ELF",
                                      4) != 0)
    return std::nullopt;
  const bool big_endian = static_cast<uint8_t>(head[5]) == 2;
  const auto b0 = static_cast<uint8_t>(head[18]), b1 = static_cast<uint8_t>(head[19]);
  const uint16_t machine = static_cast<uint16_t>(big_endian ? (b0 << 8) | b1 : (b1 << 8) | b0);
  if (machine == kEmX86_64 || machine == kEm386) return std::nullopt;  // this machine's
  const std::string what = program + " is a program for " + machine_name(machine) +
                           " and this machine runs x86-64 ones: probing it needs qemu-user"
                           " registered with binfmt_misc";
  std::string unfixed;
  if (DIR* dir = opendir(binfmt_dir.c_str())) {
    while (dirent* d = readdir(dir)) {
      const std::string name = d->d_name;
      if (name == "." || name == ".." || name == "register" || name == "status") continue;
      const BinfmtEntry e = read_entry(binfmt_dir + "/" + name);
      if (!e.enabled || !matches(e, head)) continue;
      if (e.fix_binary) {
        closedir(dir);
        return std::nullopt;
      }
      unfixed = name;
    }
    closedir(dir);
  }
  if (!unfixed.empty()) {
    return what + " with the F flag (its entry " + unfixed +
           " lacks it, so the kernel would look for its interpreter in the source's root;"
           " Debian's qemu-user-static registers it so)";
  }
  return what + " (Debian's qemu-user-static), and " + binfmt_dir + " has no entry for it";
}

}  // namespace dslim::probe
