#include "resolve/node_bytes.hpp"

namespace dslim::resolve {

bool with_node_bytes(const Node& node, const rootfs::RootFs& fs,
                     const std::function<void(uint64_t size, const elf::ReadAt& read_at,
                                              const std::string& name)>& use) {
  if (!node.real_path.empty()) {
    auto file = fs.open_reader(node.real_path, node.stat);
    use(
        file->size(), [&](uint64_t offset, std::span<std::byte> out) { file->read(offset, out); },
        node.real_path + " in " + fs.describe());
    return true;
  }
  if (!node.host_path.empty()) {
    elf::with_host_file(node.host_path, [&](uint64_t size, const elf::ReadAt& read_at) {
      use(size, read_at, node.host_path);
    });
    return true;
  }
  return false;
}

}  // namespace dslim::resolve
