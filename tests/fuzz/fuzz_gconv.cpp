// glibc's gconv configuration as an image may hold it: the input is cut at
// NUL bytes into gconv-modules, a gconv-modules.d/*.conf file and
// gconv-modules.cache, read through an in-memory root; then the charsets a
// program might name are looked up, as the iconv inference does.
#include <string>
#include <string_view>

#include "dslim/error.hpp"
#include "dslim/gconv.hpp"
#include "dslim/rootfs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const char* paths[] = {"/usr/lib/gconv/gconv-modules", "/usr/lib/gconv/gconv-modules.d/x.conf",
                         "/usr/lib/gconv/gconv-modules.cache"};
  dslim::rootfs::MemRootFs fs;
  for (const char* path : paths) {
    const size_t cut = std::min(in.find('\0'), in.size());
    if (cut != 0) fs.add_file(path, std::string(in.substr(0, cut)));
    in.remove_prefix(std::min(cut + 1, in.size()));
  }
  fs.add_file("/usr/lib/gconv/ISO8859-15.so", "module");
  fs.add_file("/usr/lib/gconv/EUC-JP.so", "module");
  try {
    auto config = dslim::resolve::read_gconv_config(fs, "/usr/lib");
    if (config) {
      (void)config->modules_for({"ISO-8859-15", "latin1", "EUC-JP//TRANSLIT", "UTF-8", "x"});
      (void)config->all_modules();
    }
  } catch (const dslim::Error&) {
  }
  return 0;
}
