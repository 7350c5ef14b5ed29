// RootFs::open_reader's default: piecewise reads over the whole-file view,
// for backends whose files are in memory anyway.
#include <cstring>

#include "dslim/error.hpp"
#include "dslim/rootfs.hpp"

namespace dslim::rootfs {
namespace {

class ViewReader : public FileReader {
 public:
  ViewReader(std::unique_ptr<FileView> view, std::string where)
      : view_(std::move(view)), where_(std::move(where)) {}
  uint64_t size() const override { return view_->bytes().size(); }
  void read(uint64_t offset, std::span<std::byte> out) const override {
    auto bytes = view_->bytes();
    if (offset > bytes.size() || out.size() > bytes.size() - offset) {
      throw Error(where_ + ": read past the end of the file");
    }
    std::memcpy(out.data(), bytes.data() + offset, out.size());
  }

 private:
  std::unique_ptr<FileView> view_;
  std::string where_;
};

}  // namespace

std::unique_ptr<FileReader> RootFs::open_reader(const std::string& path, const Stat&) const {
  return std::make_unique<ViewReader>(open(path), path + " in " + describe());
}

}  // namespace dslim::rootfs
