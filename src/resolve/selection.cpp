#include "dslim/selection.hpp"

#include "dslim/error.hpp"

namespace dslim::resolve {

namespace {

// `expanded`: the directories whose entries this selection has taken. Not
// `out`: a directory may be there already as the target of a link, without
// its entries (the result must not depend on the order of --include flags).
void add_below(const rootfs::RootFs& fs, const std::string& dir, std::set<std::string>& out,
               std::set<std::string>& expanded, size_t& budget) {
  if (!expanded.insert(dir).second) return;
  for (const auto& name : fs.list(dir)) {
    std::string child = (dir == "/" ? "" : dir) + "/" + name;
    if (budget == 0) {
      throw Error("more than " + std::to_string(kMaxTreeEntries) + " entries below " + dir +
                  " in " + fs.describe());
    }
    --budget;
    auto st = fs.lstat(child);
    if (!st) continue;
    if (st->type == rootfs::FileType::Symlink) {
      out.insert(child);
      // A link to a file brings its target so it works in the image; a link
      // to a directory brings only the way there (zoneinfo's `posix -> .`
      // must not pull in a whole tree twice, nor `-> /` the whole root); a
      // dangling link is kept as it is in the source.
      if (auto target = rootfs::resolve(fs, child)) {
        out.insert(target->links.begin(), target->links.end());
        out.insert(target->path);
      }
    } else if (st->type == rootfs::FileType::Directory) {
      out.insert(child);
      add_below(fs, child, out, expanded, budget);
    } else {
      out.insert(child);
    }
  }
}

void add_resolved(const rootfs::RootFs& fs, const std::string& path, std::set<std::string>& out,
                  size_t& budget) {
  auto where = rootfs::resolve(fs, path);
  if (!where) throw Error(path + ": not found in " + fs.describe());
  out.insert(where->links.begin(), where->links.end());
  out.insert(where->path);
  std::set<std::string> expanded;
  if (where->stat.type == rootfs::FileType::Directory) {
    add_below(fs, where->path, out, expanded, budget);
  }
}

}  // namespace

void select_entry(const rootfs::RootFs& fs, const std::string& path, std::set<std::string>& out) {
  auto where = rootfs::resolve(fs, path);
  if (!where) throw Error(path + ": not found in " + fs.describe());
  out.insert(where->links.begin(), where->links.end());
  out.insert(where->path);
}

void select_tree(const rootfs::RootFs& fs, const std::string& path, std::set<std::string>& out) {
  size_t budget = kMaxTreeEntries;
  add_resolved(fs, path, out, budget);
}

}  // namespace dslim::resolve
