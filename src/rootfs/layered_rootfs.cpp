// LayeredRootFs: an image's layers merged into one index, as the container
// sees them. Layers come from a LayerStore (indexed once, maybe by an
// earlier run); regular files are read in place from their layer file.
#include "dslim/layered_rootfs.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <thread>

#include "dslim/error.hpp"
#include "layer_file.hpp"

namespace dslim::rootfs {
namespace {

std::string base_of(const std::string& path) {
  return path.substr(path.rfind('/') + 1);
}

std::string child_of(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

}  // namespace

// Applies one layer's index after another.
struct LayeredRootFs::Builder {
  LayeredRootFs& fs;

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

  void add(const LayerEntry& e, uint32_t layer, uint32_t entry, const std::string& where) {
    Node node;
    if (e.hardlink) {
      auto target = fs.nodes_.find(e.link);
      if (target == fs.nodes_.end() || target->second.stat.type == FileType::Directory)
        throw Error(where + ": hardlink " + e.path + " points at " + e.link +
                    ", which is not a file in the image");
      node = target->second;  // same inode: same contents and stat
    } else {
      node.stat = e.stat;
      if (e.stat.type == FileType::Symlink) node.link = e.link;
      node.layer = layer;
      node.entry = entry;
    }
    if (e.path == "/") {
      if (node.stat.type != FileType::Directory)
        throw Error(where + ": entry " + e.path + " replaces / with a non-directory");
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

  // Whiteouts delete only what lower layers hold, whatever their order in
  // the tar, so they go first.
  void apply(const LayerIndex& index, uint32_t layer, const std::string& where) {
    for (const auto& e : index.entries) {
      if (e.kind == LayerEntry::Whiteout) {
        remove(e.path);
      } else if (e.kind == LayerEntry::Opaque) {
        auto it = fs.nodes_.find(e.path);
        if (it != fs.nodes_.end() && it->second.stat.type == FileType::Directory) {
          std::set<std::string> names = it->second.names;
          for (const auto& name : names) remove(child_of(e.path, name));
        }
      }
    }
    for (uint32_t i = 0; i < index.entries.size(); ++i) {
      const LayerEntry& e = index.entries[i];
      if (e.kind == LayerEntry::Opaque) ensure_dir(e.path);
      if (e.kind == LayerEntry::Add) add(e, layer, i, where);
    }
  }
};

LayeredRootFs::LayeredRootFs(std::string what, std::vector<LayerInput> layers,
                             std::shared_ptr<LayerStore> store, const LayeredLimits& limits,
                             LayerObserver observer)
    : what_(std::move(what)),
      store_(std::move(store)),
      limits_(limits),
      observer_(std::move(observer)) {
  Node root;
  root.stat.type = FileType::Directory;
  root.stat.mode = 0755;
  nodes_.emplace("/", std::move(root));

  // Fetching a layer is independent of the others, so layers go in
  // parallel (one per core); merging stays in layer order below.
  layers_.resize(layers.size());
  std::vector<std::exception_ptr> errors(layers.size());
  std::atomic<uint64_t> entries = 0;
  std::atomic<size_t> next = 0;
  auto work = [&] {
    for (size_t i; (i = next++) < layers.size();) {
      try {
        layers_[i].input = std::move(layers[i]);
        layers_[i].indexed = store_->get(layers_[i].input, limits_, entries,
                                         what_ + ": layer " + layers_[i].input.digest);
        report(layers_[i]);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  };
  size_t workers =
      std::min<size_t>(layers.size(), std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::thread> threads;
  for (size_t t = 1; t < workers; ++t) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);  // the lowest layer at fault

  Builder builder{*this};
  for (size_t i = 0; i < layers_.size(); ++i)
    builder.apply(*layers_[i].indexed.index, static_cast<uint32_t>(i),
                  what_ + ": layer " + layers_[i].input.digest);
}

LayeredRootFs::~LayeredRootFs() = default;

void LayeredRootFs::report(const Layer& l) const {
  if (observer_)
    observer_({l.input.digest, l.input.diff_id, l.indexed.reused, l.indexed.repaired,
               l.indexed.location});
}

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
  std::lock_guard lock(repair_);
  Layer& layer = layers_.at(node.layer);
  const LayerEntry& entry = layer.indexed.index->entries.at(node.entry);
  try {
    return layer.indexed.file->view(entry);
  } catch (const CorruptLayerFile&) {
    // The same tar indexes the same way, so the node still points right.
    IndexedLayer fresh =
        store_->rebuild(layer.input, limits_, what_ + ": layer " + layer.input.digest);
    if (fresh.index->entries.size() != layer.indexed.index->entries.size())
      throw Error(what_ + ": layer " + layer.input.digest + " changed while it was rebuilt");
    layer.indexed.file = std::move(fresh.file);
    layer.indexed.reused = false;
    layer.indexed.repaired = true;
    layer.indexed.location = fresh.location;
    report(layer);
    return layer.indexed.file->view(entry);
  }
}

}  // namespace dslim::rootfs
