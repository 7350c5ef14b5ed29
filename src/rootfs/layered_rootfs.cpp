// LayeredRootFs: an image's layers merged into one index, as the container
// sees them. Each layer is inflated once into a LayerTar and its tar read in
// place with libarchive; regular files are recorded by their offset in it.
#include "dslim/layered_rootfs.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <thread>

#include "dslim/error.hpp"
#include "layer_tar.hpp"

namespace dslim::rootfs {
namespace {

constexpr std::string_view kWhiteout = ".wh.";
constexpr std::string_view kOpaque = ".wh..wh..opq";

struct ReadDeleter {
  void operator()(struct archive* a) const { archive_read_free(a); }
};

class TarFileView : public FileView {
 public:
  TarFileView(std::shared_ptr<const LayeredRootFs::LayerTar> tar, uint64_t offset, uint64_t size)
      : tar_(std::move(tar)), offset_(offset), size_(size) {}
  std::span<const std::byte> bytes() const override {
    if (size_ == 0) return {};
    return {static_cast<const std::byte*>(tar_->base) + offset_, size_};
  }

 private:
  std::shared_ptr<const LayeredRootFs::LayerTar> tar_;  // keeps the mapping alive
  uint64_t offset_;
  uint64_t size_;
};

std::string base_of(const std::string& path) {
  return path.substr(path.rfind('/') + 1);
}

std::string child_of(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

}  // namespace

// Applies one layer after another onto the index.
struct LayeredRootFs::Builder {
  LayeredRootFs& fs;
  const LayeredLimits& limits;
  std::atomic<uint64_t> entries = 0;  // read_entries runs on several layers at once

  // One tar entry, kept until the layer's whiteouts have been applied: they
  // delete only what lower layers hold, whatever their order in the tar.
  struct Entry {
    enum Kind { Add, Whiteout, Opaque } kind = Add;
    std::string path;      // Add: the entry; Whiteout: what it deletes; Opaque: its directory
    std::string raw;       // the name as stored, for messages
    Node node;             // Add
    std::string hardlink;  // Add: the physical path a hardlink points at
  };

  // "./usr//bin/" -> "/usr/bin". Any ".." is refused rather than clamped:
  // a layer holding one was made to attack whoever unpacks it.
  static std::string entry_path(const std::string& raw, const std::string& where) {
    if (raw.empty()) throw Error(where + ": an entry has an empty name");
    std::string out;
    size_t at = 0;
    while (at <= raw.size()) {
      size_t slash = raw.find('/', at);
      if (slash == std::string::npos) slash = raw.size();
      std::string_view part(raw.data() + at, slash - at);
      if (part == "..") throw Error(where + ": entry " + raw + " escapes the root");
      if (!part.empty() && part != ".") out.append("/").append(part);
      at = slash + 1;
    }
    return out.empty() ? "/" : out;
  }

  void remove(const std::string& path) {
    auto it = fs.nodes_.find(path);
    if (it == fs.nodes_.end()) return;
    std::set<std::string> names = std::move(it->second.names);
    for (const auto& name : names) remove(child_of(path, name));
    fs.nodes_.erase(path);
    fs.nodes_.at(parent_dir(path)).names.erase(base_of(path));
  }

  // The directory at `path`, made (0755) when missing. A non-directory in
  // the way is replaced, as overlayfs shows an upper directory over it.
  Node& ensure_dir(const std::string& path) {
    auto it = fs.nodes_.find(path);
    if (it != fs.nodes_.end() && it->second.stat.type == FileType::Directory) return it->second;
    bool in_the_way = it != fs.nodes_.end();
    Node& parent = ensure_dir(parent_dir(path));  // may rehash: `it` is not used below
    if (in_the_way) remove(path);
    Node dir;
    dir.stat.type = FileType::Directory;
    dir.stat.mode = 0755;
    parent.names.insert(base_of(path));
    return fs.nodes_[path] = std::move(dir);
  }

  void add(const Entry& e, const std::string& where) {
    Node node = e.node;
    if (!e.hardlink.empty()) {
      auto target = fs.nodes_.find(e.hardlink);
      if (target == fs.nodes_.end() || target->second.stat.type == FileType::Directory)
        throw Error(where + ": hardlink " + e.raw + " points at " + e.hardlink +
                    ", which is not a file in the image");
      node = target->second;  // same inode: same contents and stat
    }
    if (e.path == "/") {
      if (node.stat.type != FileType::Directory)
        throw Error(where + ": entry " + e.raw + " replaces / with a non-directory");
      fs.nodes_.at("/").stat = node.stat;
      return;
    }
    Node& parent = ensure_dir(parent_dir(e.path));
    auto it = fs.nodes_.find(e.path);
    if (it != fs.nodes_.end()) {
      if (it->second.stat.type == FileType::Directory && node.stat.type == FileType::Directory) {
        it->second.stat = node.stat;  // directories merge; only the stat changes
        return;
      }
      remove(e.path);
    }
    parent.names.insert(base_of(e.path));
    fs.nodes_.emplace(e.path, std::move(node));
  }

  // Reads the tar's entries in place: a regular file's bytes must lie
  // contiguous in the mapping, so the index can point at them.
  std::vector<Entry> read_entries(const LayerTar& tar, uint32_t tar_index,
                                  const std::string& where) {
    std::unique_ptr<struct archive, ReadDeleter> a(archive_read_new());
    archive_read_support_format_tar(a.get());
    std::string last;
    auto fail = [&]() {
      const char* msg = archive_error_string(a.get());
      throw Error(where + ": corrupt tar" + (last.empty() ? "" : " after " + last) + ": " +
                  (msg ? msg : "unknown error"));
    };
    std::vector<Entry> out;
    std::string_view data = tar.bytes();
    if (data.empty()) return out;  // an empty layer
    if (archive_read_open_memory(a.get(), data.data(), data.size()) != ARCHIVE_OK) fail();
    archive_entry* ae = nullptr;
    for (;;) {
      int rc = archive_read_next_header(a.get(), &ae);
      if (rc == ARCHIVE_EOF) break;
      if (rc < ARCHIVE_WARN) fail();
      if (++entries > limits.max_entries)
        throw Error(where + ": the image holds more than " + std::to_string(limits.max_entries) +
                    " entries, the bound for one image");
      Entry e;
      e.raw = archive_entry_pathname(ae) ? archive_entry_pathname(ae) : "";
      last = e.raw;
      e.path = entry_path(e.raw, where);
      std::string name = e.path == "/" ? "" : base_of(e.path);
      if (name.starts_with(kWhiteout)) {
        std::string dir = parent_dir(e.path);
        if (name == kOpaque) {
          e.kind = Entry::Opaque;
          e.path = dir;
        } else if (name.starts_with(".wh..wh.")) {
          continue;  // aufs bookkeeping (.wh..wh.plnk and the like), not a whiteout
        } else {
          std::string target = name.substr(kWhiteout.size());
          if (target.empty() || target == ".")
            throw Error(where + ": entry " + e.raw + " whites out " +
                        (dir == "/" ? std::string("the root /") : "its own directory " + dir));
          if (target == "..") throw Error(where + ": entry " + e.raw + " escapes the root");
          e.kind = Entry::Whiteout;
          e.path = child_of(dir, target);
        }
        out.push_back(std::move(e));
        continue;
      }
      Stat& st = e.node.stat;
      st.mode = archive_entry_perm(ae) & 07777;
      st.uid = static_cast<uint32_t>(archive_entry_uid(ae));
      st.gid = static_cast<uint32_t>(archive_entry_gid(ae));
      if (const char* hl = archive_entry_hardlink(ae)) {
        e.hardlink = entry_path(hl, where);
      } else {
        switch (archive_entry_filetype(ae)) {
          case AE_IFREG:
            st.type = FileType::Regular;
            st.size = static_cast<uint64_t>(archive_entry_size(ae));
            e.node.tar = tar_index;
            e.node.offset = file_offset(a.get(), data, st.size, e.raw, where);
            break;
          case AE_IFDIR:
            st.type = FileType::Directory;
            break;
          case AE_IFLNK:
            st.type = FileType::Symlink;
            e.node.link = archive_entry_symlink(ae) ? archive_entry_symlink(ae) : "";
            st.size = e.node.link.size();
            break;
          default:
            st.type = FileType::Other;  // devices, FIFOs, sockets
        }
      }
      out.push_back(std::move(e));
    }
    return out;
  }

  // Where the current entry's bytes start in `data`, checked to be one run.
  static uint64_t file_offset(struct archive* a, std::string_view data, uint64_t size,
                              const std::string& raw, const std::string& where) {
    const void* buf = nullptr;
    size_t len = 0;
    la_int64_t off = 0;
    uint64_t start = 0;
    uint64_t got = 0;
    for (;;) {
      int rc = archive_read_data_block(a, &buf, &len, &off);
      if (rc == ARCHIVE_EOF) break;
      if (rc < ARCHIVE_WARN) {
        const char* msg = archive_error_string(a);
        throw Error(where + ": corrupt tar at " + raw + ": " + (msg ? msg : "unknown error"));
      }
      if (len == 0) continue;
      const char* p = static_cast<const char*>(buf);
      bool inside = p >= data.data() && p + len <= data.data() + data.size();
      uint64_t at = inside ? static_cast<uint64_t>(p - data.data()) : 0;
      if (got == 0 && inside && off == 0) start = at;
      if (!inside || static_cast<uint64_t>(off) != got || at != start + got)
        throw Error(where + ": entry " + raw + " is a sparse file, which is not supported");
      got += len;
    }
    if (got != size) throw Error(where + ": truncated tar at " + raw);
    return start;
  }

  void apply(const std::vector<Entry>& layer, const std::string& where) {
    for (const auto& e : layer) {
      if (e.kind == Entry::Whiteout) {
        remove(e.path);
      } else if (e.kind == Entry::Opaque) {
        auto it = fs.nodes_.find(e.path);
        if (it != fs.nodes_.end() && it->second.stat.type == FileType::Directory) {
          std::set<std::string> names = it->second.names;
          for (const auto& name : names) remove(child_of(e.path, name));
        }
      }
    }
    for (const auto& e : layer) {
      if (e.kind == Entry::Opaque) ensure_dir(e.path);
      if (e.kind == Entry::Add) add(e, where);
    }
  }
};

LayeredRootFs::LayeredRootFs(std::string what, const std::vector<LayerInput>& layers,
                             const LayeredLimits& limits)
    : what_(std::move(what)) {
  Node root;
  root.stat.type = FileType::Directory;
  root.stat.mode = 0755;
  nodes_.emplace("/", std::move(root));
  Builder builder{*this, limits};

  // Inflating and reading a layer is independent of the others, so layers
  // go in parallel (one per core); merging stays in layer order below.
  struct Read {
    std::shared_ptr<const LayerTar> tar;
    std::vector<Builder::Entry> entries;
    std::exception_ptr error;
  };
  std::vector<Read> reads(layers.size());
  std::atomic<size_t> next = 0;
  auto work = [&] {
    for (size_t i; (i = next++) < layers.size();) {
      try {
        std::string where = what_ + ": layer " + layers[i].digest;
        reads[i].tar = inflate_layer(layers[i].bytes, limits.max_layer_inflated, where);
        reads[i].entries = builder.read_entries(*reads[i].tar, static_cast<uint32_t>(i), where);
        // Indexed: give the pages back (they come back from the file on
        // open), so memory stays the size of the index, not of the layers.
        if (reads[i].tar->base) ::madvise(reads[i].tar->base, reads[i].tar->size, MADV_DONTNEED);
      } catch (...) {
        reads[i].error = std::current_exception();
      }
    }
  };
  size_t workers =
      std::min<size_t>(layers.size(), std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::thread> threads;
  for (size_t t = 1; t < workers; ++t) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();

  for (size_t i = 0; i < layers.size(); ++i) {
    if (reads[i].error) std::rethrow_exception(reads[i].error);  // the lowest layer at fault
    tars_.push_back(std::move(reads[i].tar));
    builder.apply(reads[i].entries, what_ + ": layer " + layers[i].digest);
    reads[i].entries.clear();
  }
}

LayeredRootFs::~LayeredRootFs() = default;

const LayeredRootFs::Node* LayeredRootFs::find(const std::string& path) const {
  auto it = nodes_.find(path);
  if (it == nodes_.end()) it = nodes_.find(normalize(path));
  return it == nodes_.end() ? nullptr : &it->second;
}

const LayeredRootFs::Node& LayeredRootFs::need(const std::string& path) const {
  const Node* node = find(path);
  if (!node) throw Error(what_ + ": " + normalize(path) + ": no such file or directory");
  return *node;
}

std::optional<Stat> LayeredRootFs::lstat(const std::string& path) const {
  const Node* node = find(path);
  if (!node) return std::nullopt;
  return node->stat;
}

std::string LayeredRootFs::readlink(const std::string& path) const {
  const Node& node = need(path);
  if (node.stat.type != FileType::Symlink)
    throw Error(what_ + ": " + normalize(path) + ": not a symbolic link");
  return node.link;
}

std::vector<std::string> LayeredRootFs::list(const std::string& path) const {
  const Node& node = need(path);
  if (node.stat.type != FileType::Directory)
    throw Error(what_ + ": " + normalize(path) + ": not a directory");
  return {node.names.begin(), node.names.end()};
}

std::unique_ptr<FileView> LayeredRootFs::open(const std::string& path) const {
  const Node& node = need(path);
  if (node.stat.type != FileType::Regular)
    throw Error(what_ + ": " + normalize(path) + ": not a regular file");
  return std::make_unique<TarFileView>(tars_.at(node.tar), node.offset, node.stat.size);
}

}  // namespace dslim::rootfs
