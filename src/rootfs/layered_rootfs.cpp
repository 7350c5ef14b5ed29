// LayeredRootFs: an image's layers merged into one index, as the container
// sees them. Layers come from a LayerStore (indexed once, maybe by an
// earlier run); regular files are read in place from their layer file.
#include "dslim/layered_rootfs.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <set>
#include <thread>
#include <unordered_map>

#include "dslim/digest.hpp"
#include "dslim/error.hpp"
#include "layer_file.hpp"
#include "merged_view.hpp"

namespace dslim::rootfs {
namespace {

std::string base_of(const std::string& path) {
  return path.substr(path.rfind('/') + 1);
}

std::string child_of(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

struct Node {
  Stat stat;
  std::string link;             // symlink target, as stored
  uint32_t layer = 0;           // regular file: which layer holds its bytes
  uint32_t entry = 0;           // regular file: its entry in that layer's index
  std::set<std::string> names;  // directory: its children
};

// "sha256:…" naming a stack of layers by their diff_ids and blobs, or ""
// when one has no diff_id (it is not cached, so neither is the stack).
std::string merged_key(const std::vector<LayerInput>& layers) {
  std::string text = "dslim merged view 2\n";
  for (const auto& l : layers) {
    if (l.diff_id.empty()) return "";
    text += l.diff_id + " " + l.digest + "\n";
  }
  return sha256_digest(text);
}

}  // namespace

// Applies one layer's index after another.
struct LayeredRootFs::Builder {
  std::unordered_map<std::string, Node> nodes;

  Builder() {
    Node root;
    root.stat.type = FileType::Directory;
    root.stat.mode = 0755;
    nodes.emplace("/", std::move(root));
  }

  void remove(const std::string& path) {
    auto it = nodes.find(path);
    if (it == nodes.end()) return;
    std::set<std::string> names = std::move(it->second.names);
    for (const auto& name : names) remove(child_of(path, name));
    nodes.erase(path);
    nodes.at(parent_dir(path)).names.erase(base_of(path));
  }

  // The directory at `path`, made (0755) when missing. A non-directory in
  // the way is replaced, as overlayfs shows an upper directory over it.
  Node& ensure_dir(const std::string& path) {
    auto it = nodes.find(path);
    if (it != nodes.end() && it->second.stat.type == FileType::Directory) return it->second;
    bool in_the_way = it != nodes.end();
    Node& parent = ensure_dir(parent_dir(path));  // may rehash: `it` is not used below
    if (in_the_way) remove(path);
    Node dir;
    dir.stat.type = FileType::Directory;
    dir.stat.mode = 0755;
    parent.names.insert(base_of(path));
    return nodes[path] = std::move(dir);
  }

  void add(const LayerEntry& e, uint32_t layer, uint32_t entry, const std::string& where) {
    Node node;
    if (e.hardlink) {
      auto target = nodes.find(e.link);
      if (target == nodes.end() || target->second.stat.type == FileType::Directory)
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
      nodes.at("/").stat = node.stat;
      return;
    }
    Node& parent = ensure_dir(parent_dir(e.path));
    auto it = nodes.find(e.path);
    if (it != nodes.end()) {
      if (it->second.stat.type == FileType::Directory && node.stat.type == FileType::Directory) {
        it->second.stat = node.stat;  // directories merge; only the stat changes
        return;
      }
      remove(e.path);
    }
    parent.names.insert(base_of(e.path));
    nodes.emplace(e.path, std::move(node));
  }

  // Whiteouts delete only what lower layers hold, whatever their order in
  // the tar, so they go first.
  void apply(const LayerIndex& index, uint32_t layer, const std::string& where) {
    for (const auto& e : index.entries) {
      if (e.kind == LayerEntry::Whiteout) {
        remove(e.path);
      } else if (e.kind == LayerEntry::Opaque) {
        auto it = nodes.find(e.path);
        if (it != nodes.end() && it->second.stat.type == FileType::Directory) {
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
  std::string key = merged_key(layers);
  layers_.resize(layers.size());
  for (size_t i = 0; i < layers.size(); ++i) layers_[i].input = std::move(layers[i]);
  if (!key.empty() && open_merged(key)) return;

  // Fetching a layer is independent of the others, so layers go in
  // parallel (one thread per core), while this thread applies each one in
  // layer order as soon as it is ready: merging the lower layers overlaps
  // inflating the upper ones.
  std::vector<std::exception_ptr> errors(layers_.size());
  std::vector<char> ready(layers_.size(), 0);
  std::mutex mu;
  std::condition_variable changed;
  std::atomic<bool> stop = false;
  std::atomic<uint64_t> entries = 0;
  std::atomic<size_t> next = 0;
  auto work = [&] {
    for (size_t i; !stop && (i = next++) < layers_.size();) {
      try {
        layers_[i].indexed = store_->get(layers_[i].input, limits_, entries,
                                         what_ + ": layer " + layers_[i].input.digest);
      } catch (...) {
        errors[i] = std::current_exception();
      }
      {
        std::lock_guard lock(mu);
        ready[i] = 1;
      }
      changed.notify_all();
    }
  };
  size_t workers =
      std::min<size_t>(layers_.size(), std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::thread> threads;
  for (size_t t = 0; t < workers; ++t) threads.emplace_back(work);
  auto join = [&] {
    for (auto& t : threads)
      if (t.joinable()) t.join();
  };
  Builder builder;
  try {
    for (size_t i = 0; i < layers_.size(); ++i) {
      {
        std::unique_lock lock(mu);
        changed.wait(lock, [&] { return ready[i] != 0; });
      }
      if (errors[i]) std::rethrow_exception(errors[i]);  // the lowest layer at fault
      report(layers_[i]);  // here, not on the workers: one thread, in layer order
      builder.apply(*layers_[i].indexed.index, static_cast<uint32_t>(i),
                    what_ + ": layer " + layers_[i].input.digest);
    }
  } catch (...) {
    stop = true;
    join();
    throw;
  }
  join();

  std::string bytes = flatten(builder);
  if (!key.empty()) store_->keep_merged(key, bytes);
  view_ = std::make_unique<MergedView>(std::move(bytes), what_);
}

LayeredRootFs::~LayeredRootFs() = default;

// Every layer's file from the store and the stack's merged view: no index
// is read. Anything missing or damaged sends the caller the long way.
bool LayeredRootFs::open_merged(const std::string& key) {
  auto bytes = store_->find_merged(key);
  if (!bytes) return false;
  std::unique_ptr<MergedView> view;
  try {
    view = std::make_unique<MergedView>(std::move(bytes), what_);
  } catch (const Error&) {
    return false;  // damaged: merged again, and kept anew
  }
  if (view->layers() != layers_.size() || view->size() > limits_.max_entries) return false;
  for (auto& layer : layers_) {
    layer.indexed.file = store_->find_file(layer.input, &layer.indexed.location);
    if (!layer.indexed.file) return false;
    layer.indexed.reused = true;
  }
  view_ = std::move(view);
  for (const auto& layer : layers_) report(layer);
  return true;
}

// The merged layers as a MergedView's bytes.
std::string LayeredRootFs::flatten(const Builder& builder) const {
  std::vector<MergedEntry> entries;
  entries.reserve(builder.nodes.size());
  for (const auto& [path, node] : builder.nodes) {
    MergedEntry& e = entries.emplace_back();
    e.path = path;
    e.stat = node.stat;
    e.link = node.link;
    if (node.stat.type == FileType::Regular) {
      const LayerEntry& at = layers_[node.layer].indexed.index->entries.at(node.entry);
      e.layer = node.layer;
      e.entry = node.entry;
      e.offset = at.offset;
      e.crc = at.crc;
    }
  }
  return serialize_merged(entries, static_cast<uint32_t>(layers_.size()));
}

void LayeredRootFs::report(const Layer& l) const {
  if (observer_)
    observer_({l.input.digest, l.input.diff_id, l.indexed.reused, l.indexed.repaired,
               l.indexed.location});
}

// The path as given first: callers mostly pass normalized paths already.
std::optional<MergedEntry> LayeredRootFs::find(const std::string& path) const {
  if (auto found = view_->find(path)) return found;
  std::string norm = normalize(path);
  return norm == path ? std::nullopt : view_->find(norm);
}

MergedEntry LayeredRootFs::need(const std::string& path) const {
  auto found = find(path);
  if (!found) throw Error(what_ + ": " + normalize(path) + ": no such file or directory");
  return *found;
}

std::optional<Stat> LayeredRootFs::lstat(const std::string& path) const {
  auto found = find(path);
  if (!found) return std::nullopt;
  return found->stat;
}

std::string LayeredRootFs::readlink(const std::string& path) const {
  MergedEntry e = need(path);
  if (e.stat.type != FileType::Symlink)
    throw Error(what_ + ": " + normalize(path) + ": not a symbolic link");
  return std::string(e.link);
}

std::vector<std::string> LayeredRootFs::list(const std::string& path) const {
  MergedEntry e = need(path);
  if (e.stat.type != FileType::Directory)
    throw Error(what_ + ": " + normalize(path) + ": not a directory");
  return view_->children(e.path);
}

std::optional<std::string> LayeredRootFs::content_id(const std::string& path) const {
  MergedEntry e = need(path);
  const std::string& blob = layers_.at(e.layer).input.digest;
  if (e.stat.type != FileType::Regular || blob.empty()) return std::nullopt;
  return blob + "@" + std::to_string(e.offset) + "+" + std::to_string(e.stat.size);
}

std::unique_ptr<FileView> LayeredRootFs::open(const std::string& path) const {
  MergedEntry e = need(path);
  if (e.stat.type != FileType::Regular)
    throw Error(what_ + ": " + normalize(path) + ": not a regular file");
  LayerEntry entry;
  entry.path = e.path;
  entry.stat = e.stat;
  entry.offset = e.offset;
  entry.crc = e.crc;
  std::lock_guard lock(repair_);
  Layer& layer = layers_.at(e.layer);
  try {
    return layer.indexed.file->view(entry);
  } catch (const CorruptLayerFile&) {
    // The same tar indexes the same way, so the entry is where it was.
    IndexedLayer fresh =
        store_->rebuild(layer.input, limits_, what_ + ": layer " + layer.input.digest);
    const auto& now = fresh.index->entries;
    if (e.entry >= now.size() || now[e.entry].offset != e.offset || now[e.entry].crc != e.crc)
      throw Error(what_ + ": layer " + layer.input.digest + " changed while it was rebuilt");
    layer.indexed = std::move(fresh);
    report(layer);
    return layer.indexed.file->view(entry);
  }
}

}  // namespace dslim::rootfs
