// ld.so.conf with includes, and ld.so.preload, read through an in-memory
// image root. The input is cut at NUL bytes into /etc/ld.so.conf and two
// files it may include, so includes (and include cycles) get exercised.
#include <string>
#include <string_view>

#include "dslim/error.hpp"
#include "dslim/loader_config.hpp"
#include "dslim/rootfs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const char* paths[] = {"/etc/ld.so.conf", "/etc/ld.so.conf.d/a.conf", "/etc/b.conf"};
  dslim::rootfs::MemRootFs fs;
  for (const char* path : paths) {
    const size_t cut = std::min(in.find('\0'), in.size());
    fs.add_file(path, std::string(in.substr(0, cut)));
    in.remove_prefix(std::min(cut + 1, in.size()));
  }
  fs.add_symlink("/etc/ld.so.preload", "ld.so.conf");
  fs.add_symlink("/etc/loop.conf", "loop.conf");
  try {
    (void)dslim::resolve::read_ld_so_conf(fs);
  } catch (const dslim::Error&) {
  }
  try {
    (void)dslim::resolve::read_ld_so_preload(fs);
  } catch (const dslim::Error&) {
  }
  return 0;
}
