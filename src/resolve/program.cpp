#include <filesystem>

#include "dslim/error.hpp"
#include "dslim/resolver.hpp"
#include "resolve/walk.hpp"

namespace dslim::resolve {

void check_elf_size(uint64_t size, uint64_t max, const std::string& what) {
  if (size > max)
    throw Error(what + ": " + std::to_string(size) + " bytes, more than the " +
                std::to_string(max) + " allowed for an ELF file (--max-elf-size raises it)");
}

Program program_from_host(const std::string& host_path, const std::string& origin, elf::Depth depth,
                          uint64_t max_size) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(host_path, ec);
  if (!ec) check_elf_size(size, max_size, host_path);  // else reading it reports the problem
  Program program;
  program.display = host_path;
  program.host_path = host_path;
  program.info = elf::read_elf_file(host_path, depth);
  program.origin = origin;
  return program;
}

Program program_from_root(const rootfs::RootFs& fs, const std::string& path, uint64_t max_size) {
  auto where = rootfs::resolve(fs, path);
  if (!where) throw Error(path + ": not found in " + fs.describe());
  if (where->stat.type != rootfs::FileType::Regular) {
    throw Error(path + " in " + fs.describe() + ": not a regular file");
  }
  check_elf_size(where->stat.size, max_size, path + " in " + fs.describe());
  Program program;
  program.display = path;
  // Piecewise: a plugin among hundreds taken whole is read for its headers only.
  auto file = fs.open_reader(where->path, where->stat);
  program.info = elf::read_elf(
      file->size(), [&](uint64_t offset, std::span<std::byte> out) { file->read(offset, out); },
      path + " in " + fs.describe());
  // glibc takes the main program's $ORIGIN from /proc/self/exe: symlinks resolved.
  program.origin = rootfs::parent_dir(where->path);
  program.in_root_path = rootfs::normalize(path);
  return program;
}

}  // namespace dslim::resolve
