#include "dslim/error.hpp"
#include "dslim/resolver.hpp"
#include "resolve/walk.hpp"

namespace dslim::resolve {

Program program_from_host(const std::string& host_path, const std::string& origin,
                          elf::Depth depth) {
  Program program;
  program.display = host_path;
  program.info = elf::read_elf_file(host_path, depth);
  program.origin = origin;
  return program;
}

Program program_from_root(const rootfs::RootFs& fs, const std::string& path) {
  auto where = rootfs::resolve(fs, path);
  if (!where) throw Error(path + ": not found in " + fs.describe());
  if (where->stat.type != rootfs::FileType::Regular) {
    throw Error(path + " in " + fs.describe() + ": not a regular file");
  }
  Program program;
  program.display = path;
  auto view = fs.open(where->path);
  program.info = elf::read_elf(view->bytes(), path + " in " + fs.describe());
  // glibc takes the main program's $ORIGIN from /proc/self/exe: symlinks resolved.
  program.origin = rootfs::parent_dir(where->path);
  program.in_root_path = rootfs::normalize(path);
  return program;
}

}  // namespace dslim::resolve
