#include "probe/binfmt.hpp"

#include <elf.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <string_view>

#include "dslim/unique_fd.hpp"
#include "probe/remote_process.hpp"

namespace dslim::probe::detail {
namespace {

constexpr size_t kBinprmBufSize = 256;  // what the kernel reads of a file to pick its format
constexpr int kMaxScriptDepth = 4;      // binfmt_script's nesting limit (BINPRM_MAX_RECURSION)

UniqueFd open_in_root(int root, const std::string& path) {
  open_how how{};
  how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  std::string rel = path.empty() || path[0] != '/' ? path : path.substr(1);
  if (rel.empty()) rel = ".";
  return UniqueFd(static_cast<int>(syscall(SYS_openat2, root, rel.c_str(), &how, sizeof how)));
}

// The `#!` line's interpreter, as binfmt_script parses it: after blanks, up to a blank or the
// end of the line.
std::string shebang_interpreter(std::string_view head) {
  head.remove_prefix(2);
  size_t nl = head.find('\n');
  head = head.substr(0, nl);
  size_t start = head.find_first_not_of(" \t");
  if (start == std::string_view::npos) return {};
  head.remove_prefix(start);
  return std::string(head.substr(0, head.find_first_of(" \t")));
}

std::string elf_interpreter(int fd, std::string_view head) {
  Elf64_Ehdr eh;
  if (head.size() < sizeof eh || head[EI_CLASS] != ELFCLASS64) return {};
  memcpy(&eh, head.data(), sizeof eh);
  if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum > 256) return {};
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    off_t at = static_cast<off_t>(eh.e_phoff + i * sizeof ph);
    if (pread(fd, &ph, sizeof ph, at) != sizeof ph) return {};
    if (ph.p_type != PT_INTERP) continue;
    if (ph.p_filesz < 2 || ph.p_filesz > 4096) return {};
    std::string interp(ph.p_filesz, '\0');
    if (pread(fd, interp.data(), interp.size(), static_cast<off_t>(ph.p_offset)) !=
        static_cast<ssize_t>(interp.size())) {
      return {};
    }
    interp.resize(strnlen(interp.c_str(), interp.size()));
    return interp;
  }
  return {};  // static
}

}  // namespace

std::vector<Interpreter> kernel_interpreters(
    pid_t pid, const std::string& path,
    const std::function<void(const std::string&)>& before_read) {
  std::vector<Interpreter> out;
  UniqueFd root(
      open(("/proc/" + std::to_string(pid) + "/root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return out;
  std::string current = path;
  for (int depth = 0; depth <= kMaxScriptDepth; ++depth) {
    before_read(current);
    UniqueFd fd = open_in_root(root.get(), current);
    if (!fd) break;
    char buf[kBinprmBufSize];
    ssize_t n = pread(fd.get(), buf, sizeof buf, 0);
    if (n < 4) break;
    std::string_view head(buf, static_cast<size_t>(n));
    if (head.starts_with("#!")) {
      std::string interp = shebang_interpreter(head);
      if (interp.empty()) break;
      if (interp[0] != '/') {
        std::string cwd;
        if (!remote_dir_path(pid, AT_FDCWD, cwd)) break;
        interp = (cwd == "/" ? cwd : cwd + "/") + interp;
      }
      out.push_back({interp, "binfmt_script"});
      current = interp;
      continue;
    }
    if (head.starts_with(ELFMAG)) {
      std::string interp = elf_interpreter(fd.get(), head);
      if (!interp.empty()) out.push_back({interp, "binfmt_elf"});
    }
    break;
  }
  return out;
}

}  // namespace dslim::probe::detail
