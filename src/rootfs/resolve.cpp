// resolve() and read_text(): symlink resolution confined to one image root.
//
// The walk mirrors the kernel's path lookup run inside a chroot: components are
// looked up one at a time with lstat, a symlink's target is spliced in front of
// the components still to walk (an absolute target restarts at the root, a
// relative one at the symlink's parent), and ".." is taken on the physical path
// walked so far, never above the root. Only backends' primitives are called,
// each with a physical path, so nothing outside the root is ever touched.
#include <deque>
#include <string>
#include <string_view>

#include "dslim/error.hpp"
#include "dslim/rootfs.hpp"

namespace dslim::rootfs {
namespace {

// Config files are small; anything bigger is a mistake or a hostile image.
constexpr uint64_t kMaxTextSize = 64ull << 20;

// Pushes the components of `path` (empty and "." dropped, ".." kept) in front of `todo`.
void push_front_components(std::deque<std::string>& todo, std::string_view path) {
  std::vector<std::string> parts = components(path);
  todo.insert(todo.begin(), parts.begin(), parts.end());
}

std::string join(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

// Walks the components in `todo` from `out` (a directory already resolved,
// having followed out.links.size() symlinks). `path` is for messages.
std::optional<Resolved> walk(const RootFs& fs, const Stat& root, Resolved out,
                             std::deque<std::string> todo, bool follow_last,
                             const std::string& path) {
  auto hops = static_cast<int>(out.links.size());
  // The symlinks followed so far (indexes in out.links), each with the count
  // of components left behind it; one goes once the walk eats into those. The
  // same symlink met again with the same components left is a walk repeating
  // itself: a loop bound to pass the hop bound, so say so now, not 40 hops on.
  struct Hop {
    size_t link;
    size_t left;
  };
  std::vector<Hop> followed;
  while (!todo.empty()) {
    std::string comp = std::move(todo.front());
    todo.pop_front();
    while (!followed.empty() && followed.back().left > todo.size()) followed.pop_back();
    if (comp == "..") {
      // out.path is physical (a directory), so its parent is the real "..".
      out.path = parent_dir(out.path);
      auto st = fs.lstat(out.path);
      if (!st) return std::nullopt;
      out.stat = *st;
      continue;
    }
    std::string next = join(out.path, comp);
    auto st = fs.lstat(next);
    if (!st) return std::nullopt;  // ENOENT
    bool last = todo.empty();
    if (st->type == FileType::Symlink && (!last || follow_last)) {
      bool again = false;
      for (auto h = followed.rbegin(); h != followed.rend() && h->left == todo.size(); ++h) {
        again = again || out.links[h->link] == next;
      }
      if (++hops > fs.max_symlink_hops() || again) {
        throw Error(path + ": too many levels of symbolic links in " + fs.describe() +
                    " (more than " + std::to_string(fs.max_symlink_hops()) +
                    ", a loop? --max-symlink-hops raises the bound)");
      }
      std::string target = fs.readlink(next);
      out.links.push_back(next);
      followed.push_back({out.links.size() - 1, todo.size()});
      if (target.empty()) return std::nullopt;  // the kernel says ENOENT
      if (target.front() == '/') {
        out.path = "/";
        out.stat = root;
      }
      push_front_components(todo, target);
      continue;
    }
    if (!last && st->type != FileType::Directory) return std::nullopt;  // ENOTDIR
    out.path = std::move(next);
    out.stat = *st;
  }
  return out;
}

}  // namespace

std::optional<Resolved> resolve(const RootFs& fs, const std::string& path, bool follow_last) {
  auto root = fs.lstat("/");
  if (!root) return std::nullopt;
  std::deque<std::string> todo;
  push_front_components(todo, path);
  return walk(fs, *root, Resolved{"/", *root, {}}, std::move(todo), follow_last, path);
}

std::optional<Resolved> PathResolver::resolve(const std::string& path, bool follow_last) {
  const size_t slash = path.rfind('/');
  const std::string_view name =
      slash == std::string::npos ? "" : std::string_view(path).substr(slash + 1);
  if (name.empty() || name == "." || name == "..") return rootfs::resolve(fs_, path, follow_last);
  if (!root_) {
    root_ = fs_.lstat("/");
    if (!root_) return std::nullopt;
  }
  const std::string_view dir = std::string_view(path).substr(0, slash);
  auto it = dirs_.find(dir);
  if (it == dirs_.end()) {
    std::optional<Resolved> resolved;
    try {
      resolved = rootfs::resolve(fs_, dir.empty() ? "/" : std::string(dir));
    } catch (const Error&) {
      // A loop: let the whole path's resolution say so, naming the path.
      return rootfs::resolve(fs_, path, follow_last);
    }
    it = dirs_.emplace(dir, std::move(resolved)).first;
  }
  // As the uncached walk would: a missing directory, or a file where a
  // directory should be, leaves nothing to find below it.
  if (!it->second || it->second->stat.type != FileType::Directory) return std::nullopt;
  // The usual case without the general walk's queue of components: a file
  // in the directory, or a chain of symlinks to names in that same directory
  // (libfoo.so.1 -> libfoo.so.1.2.3). Anything else (a target with a slash,
  // an empty one, too many hops, which is also where a loop ends) is left to
  // the general walk, from the start, so that it says what it would have said.
  Resolved out = *it->second;
  std::string current(name);
  for (;;) {
    std::string next = join(out.path, current);
    auto st = fs_.lstat(next);
    if (!st) return std::nullopt;
    if (st->type != FileType::Symlink || !follow_last) {
      out.path = std::move(next);
      out.stat = *st;
      return out;
    }
    std::string target = fs_.readlink(next);
    const bool plain =
        !target.empty() && target != "." && target != ".." && target.find('/') == std::string::npos;
    if (!plain || static_cast<int>(out.links.size()) + 1 > fs_.max_symlink_hops()) break;
    out.links.push_back(std::move(next));
    current = std::move(target);
  }
  return walk(fs_, *root_, *it->second, {std::string(name)}, follow_last, path);
}

namespace {

// read_text() of a file already found: `physical` and its lstat.
std::string read_text_at(const RootFs& fs, const std::string& physical, const Stat& stat,
                         const std::string& shown) {
  const std::string where = shown + " in " + fs.describe();
  if (stat.type == FileType::Directory) throw Error(where + ": is a directory, expected a file");
  if (stat.type != FileType::Regular) throw Error(where + ": not a regular file");
  auto too_big = [&](uint64_t size) {
    return Error(where + ": " + std::to_string(size) + " bytes, more than the " +
                 std::to_string(kMaxTextSize >> 20) + " MiB allowed for a text/config file");
  };
  if (stat.size > kMaxTextSize) throw too_big(stat.size);
  // Read, not mapped: a text file is small, and a map and unmap cost more
  // than the copy (the dpkg reader reads a thousand lists).
  const auto reader = fs.open_reader(physical, stat);
  if (reader->size() > kMaxTextSize) throw too_big(reader->size());
  std::string text(reader->size(), '\0');
  reader->read(0, std::as_writable_bytes(std::span(text.data(), text.size())));
  return text;
}

}  // namespace

std::optional<std::string> read_text(const RootFs& fs, const std::string& path) {
  auto r = resolve(fs, path, true);
  if (!r) return std::nullopt;
  return read_text_at(fs, r->path, r->stat, path);
}

}  // namespace dslim::rootfs
