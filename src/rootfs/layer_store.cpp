// The two LayerStores: unlinked temporary files, and a cache directory whose
// entries are published with linkat(2) from an O_TMPFILE, so a crash never
// leaves a partial entry (or a stray temporary) behind.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <utility>

#include "decompress.hpp"
#include "dslim/digest.hpp"
#include "dslim/fd_io.hpp"
#include "dslim/layered_rootfs.hpp"
#include "dslim/scratch_file.hpp"
#include "dslim/unique_fd.hpp"
#include "layer_file.hpp"
#include "mapped_file.hpp"

namespace dslim::rootfs {
namespace {

using Fd = UniqueFd;

// Names the file behind `fd` (anonymous, or the named temporary `named`)
// `path`. With `replace` an entry already there gives way to ours; without,
// it stays (as good as ours). True when `path` names a published entry.
bool publish_file(int fd, const std::string& named, const std::string& path, bool replace) {
  if (!named.empty()) {
    if (::rename(named.c_str(), path.c_str()) == 0) return true;
    ::unlink(named.c_str());
    return false;
  }
  std::string proc = "/proc/self/fd/" + std::to_string(fd);
  auto link = [&] {
    return ::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, path.c_str(), AT_SYMLINK_FOLLOW) == 0;
  };
  if (link()) return true;
  if (errno != EEXIST) return false;
  if (!replace) return true;
  ::unlink(path.c_str());
  return link();
}

// Inflates and indexes the layer into `fd`.
std::shared_ptr<const LayerIndex> build(int fd, const LayerInput& in, const LayeredLimits& limits,
                                        std::atomic<uint64_t>& entries, const std::string& where) {
  auto tar = decompressing_reader(in.open(), where);
  return std::make_shared<const LayerIndex>(
      write_layer_file(fd, *tar, in.diff_id, in.digest, limits, entries, where));
}

IndexedLayer build_temporary(const LayerInput& in, const LayeredLimits& limits,
                             std::atomic<uint64_t>& entries, const std::string& where) {
  Fd fd(scratch_file(where));
  IndexedLayer out;
  out.index = build(fd.get(), in, limits, entries, where);
  out.file = std::make_shared<const LayerFile>(fd.release(), where);
  return out;
}

class TemporaryStore : public LayerStore {
 public:
  IndexedLayer get(const LayerInput& in, const LayeredLimits& limits,
                   std::atomic<uint64_t>& entries, const std::string& where) override {
    return build_temporary(in, limits, entries, where);
  }
  IndexedLayer rebuild(const LayerInput& in, const LayeredLimits& limits,
                       const std::string& where) override {
    std::atomic<uint64_t> entries = 0;
    return build_temporary(in, limits, entries, where);
  }
};

class DirectoryStore : public LayerStore {
 public:
  explicit DirectoryStore(std::string dir) : dir_(std::move(dir)) {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec) throw Error("cannot create the layer cache " + dir_ + ": " + ec.message());
  }

  IndexedLayer get(const LayerInput& in, const LayeredLimits& limits,
                   std::atomic<uint64_t>& entries, const std::string& where) override {
    if (in.diff_id.empty()) return build_temporary(in, limits, entries, where);
    std::string path = entry_path(in.diff_id, where);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      Fd hold(fd);
      try {
        IndexedLayer out;
        out.index = std::make_shared<const LayerIndex>(read_layer_file(fd, path));
        if (out.index->diff_id != in.diff_id)
          throw CorruptLayerFile(path + ": holds layer " + out.index->diff_id);
        if (out.index->blob != in.digest) {
          // Made from another blob claiming the same diff_id: serves only
          // that blob (an image cannot plant a tar for another's layer).
          ::unlink(path.c_str());
          return publish(in, limits, entries, where, path);
        }
        entries += out.index->entries.size();
        if (entries > limits.max_entries)
          throw Error(where + ": the image holds more than " + std::to_string(limits.max_entries) +
                      " entries, the bound for one image (--max-entries raises it)");
        out.file = std::make_shared<const LayerFile>(hold.release(), path);
        out.reused = true;
        out.location = path;
        return out;
      } catch (const CorruptLayerFile&) {
        ::unlink(path.c_str());  // damaged: not trusted, built again below
        IndexedLayer out = publish(in, limits, entries, where, path);
        out.repaired = true;
        return out;
      }
    }
    return publish(in, limits, entries, where, path);
  }

  std::unique_ptr<FileView> find_merged(const std::string& key) override {
    std::string path = merged_path(key);
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st {};
    if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0) return nullptr;
    return map_file_range(fd.get(), 0, static_cast<uint64_t>(st.st_size), true, path);
  }

  void keep_merged(const std::string& key, std::string_view bytes) override {
    std::string path = merged_path(key);
    std::string dir = parent_dir(path);
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return;  // a cache that cannot be written only costs the next run time
    std::string named;
    try {
      Fd fd(anonymous_file(dir, &named, path));
      write_all(fd.get(), bytes, path);
      publish_file(fd.get(), named, path, true);  // a damaged entry in the way gives way
    } catch (const Error&) {
      if (!named.empty()) ::unlink(named.c_str());
    }
  }

  std::shared_ptr<const LayerFile> find_file(const LayerInput& in, std::string* location) override {
    if (in.diff_id.empty()) return nullptr;
    std::string path = entry_path(in.diff_id, in.digest);
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return nullptr;
    try {
      if (check_layer_file(fd.get(), path) != in.digest) return nullptr;
    } catch (const CorruptLayerFile&) {
      return nullptr;
    }
    *location = path;
    return std::make_shared<const LayerFile>(fd.release(), path);
  }

  IndexedLayer rebuild(const LayerInput& in, const LayeredLimits& limits,
                       const std::string& where) override {
    std::atomic<uint64_t> entries = 0;
    if (in.diff_id.empty()) return build_temporary(in, limits, entries, where);
    std::string path = entry_path(in.diff_id, where);
    ::unlink(path.c_str());
    IndexedLayer out = publish(in, limits, entries, where, path);
    out.repaired = true;
    return out;
  }

 private:
  std::string entry_path(const std::string& diff_id, const std::string& where) const {
    return dir_ + "/sha256/" + digest_hex(diff_id, where + " diff_id");
  }
  std::string merged_path(const std::string& key) const {
    return dir_ + "/merged/sha256/" + digest_hex(key, "merged view key");
  }

  IndexedLayer publish(const LayerInput& in, const LayeredLimits& limits,
                       std::atomic<uint64_t>& entries, const std::string& where,
                       const std::string& path) {
    std::string sub = dir_ + "/sha256";
    std::error_code ec;
    std::filesystem::create_directories(sub, ec);
    if (ec) throw Error("cannot create the layer cache " + sub + ": " + ec.message());
    std::string named;
    Fd fd(anonymous_file(sub, &named, where));
    IndexedLayer out;
    try {
      out.index = build(fd.get(), in, limits, entries, where);
    } catch (...) {
      if (!named.empty()) ::unlink(named.c_str());
      throw;
    }
    // Another run may have published the same layer meanwhile: its entry
    // is as good as ours, and ours stays readable through `fd` either way.
    if (publish_file(fd.get(), named, path, false)) out.location = path;
    out.file = std::make_shared<const LayerFile>(fd.release(), path);
    return out;
  }

  std::string dir_;
};

}  // namespace

std::shared_ptr<LayerStore> temporary_layer_store() {
  return std::make_shared<TemporaryStore>();
}

std::shared_ptr<LayerStore> directory_layer_store(const std::string& dir) {
  return std::make_shared<DirectoryStore>(dir);
}

}  // namespace dslim::rootfs
