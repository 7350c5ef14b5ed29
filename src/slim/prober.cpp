#include "slim/prober.hpp"

#include <stdlib.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <map>

#include "dslim/accounts.hpp"
#include "dslim/error.hpp"
#include "dslim/materialize.hpp"
#include "dslim/probe.hpp"
#include "dslim/selection.hpp"

namespace dslim::slim {

namespace {

namespace fs = std::filesystem;

// A private temporary directory, removed with everything in it (made
// writable first: a materialized tree keeps the image's read-only modes).
class TempDirectory {
 public:
  explicit TempDirectory(const std::string& what) {
    std::string pattern = (fs::temp_directory_path() / "dslim-probe-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw Error("cannot create a temporary directory for " + what + " in " +
                  fs::temp_directory_path().string() + " (set TMPDIR)");
    }
    path_ = pattern;
  }
  ~TempDirectory() {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(path_, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_directory(ec) && !it->is_symlink(ec))
        fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
    }
    fs::remove_all(path_, ec);
  }
  TempDirectory(const TempDirectory&) = delete;
  TempDirectory& operator=(const TempDirectory&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Paths the sandbox mounts itself: never the source's.
bool sandbox_own(const std::string& path) {
  for (const char* prefix : {"/proc", "/dev", "/sys"}) {
    const std::string p = prefix;
    if (path == p || path.starts_with(p + "/")) return true;
  }
  return false;
}

}  // namespace

struct Prober::Layout {
  // An image source is written out lazily: a path when the program first
  // touches it (before its call goes on), a directory's entries when it
  // lists one. Python importing json touches ~200 of an image's 10,000 files.
  std::unique_ptr<TempDirectory> source;
  const rootfs::RootFs* image = nullptr;
  rootfs::MaterializeStats written;
  double write_seconds = 0;
  // What the reports have counted so far (the first probe's counts the
  // directories written before it).
  uint64_t reported_files = 0, reported_bytes = 0;
  double reported_seconds = 0;
  std::string root;  // the sandbox's lower layer
  TempDirectory upper{"the files dslim adds"};
  std::vector<std::pair<std::string, std::string>> files;  // host file -> in-root path
  std::vector<std::string> env, entrypoint;
  uint32_t uid = 0, gid = 0;

  bool write_out(const std::string& path) {
    return rootfs::materialize_path(*image, path, source->path(), {}, &written);
  }

  // Every directory of the image, empty, before the sandbox mounts it.
  void write_directories(const std::string& dir) {
    for (const auto& name : image->list(dir)) {
      const std::string path = (dir == "/" ? "" : dir) + "/" + name;
      const auto st = image->lstat(path);
      if (!st || st->type != rootfs::FileType::Directory) continue;
      write_out(path);
      write_directories(path);
    }
  }

  // ProbeSpec::before_access, for an image source.
  void before_access(probe::AccessKind kind, const std::string& path) {
    if (sandbox_own(rootfs::normalize(path))) return;
    const auto t0 = std::chrono::steady_clock::now();
    // A path the image lacks may be about to be made: its deepest
    // directory the image has, then. Every ancestor the image has must be
    // there before the kernel looks it up, or the overlay would remember it
    // as missing.
    std::string at = path;
    while (!write_out(at) && at.size() > 1) {
      const auto slash = at.find_last_of('/');
      if (slash == std::string::npos) break;
      at = slash == 0 ? "/" : at.substr(0, slash);
    }
    if (kind == probe::AccessKind::List) {
      if (auto dir = rootfs::resolve(*image, path);
          dir && dir->stat.type == rootfs::FileType::Directory) {
        for (const auto& name : image->list(dir->path))
          write_out((dir->path == "/" ? "" : dir->path) + "/" + name);
      }
    }
    write_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
};

Prober::Prober(const SlimRequest& request, const rootfs::OverlayRootFs& overlay,
               const std::vector<std::string>& env, const std::string& first_entry)
    : request_(request), overlay_(overlay), layout_(std::make_unique<Layout>()) {
  if (auto why = probe::sandbox_unavailable()) {
    throw Error("--probe: no sandbox can be made here: " + *why +
                "; dslim never runs the program outside one");
  }
  Layout& l = *layout_;
  l.entrypoint = request.entrypoint.value_or(std::vector<std::string>{first_entry});
  // A program for another machine runs only through qemu-user: say so
  // before making anything.
  const auto entry =
      first_entry.starts_with("/") ? rootfs::resolve(overlay, first_entry) : std::nullopt;
  if (entry && entry->stat.type == rootfs::FileType::Regular) {
    const auto reader = overlay.open_reader(entry->path, entry->stat);
    std::vector<std::byte> head(std::min<uint64_t>(reader->size(), 256));
    reader->read(0, head);
    if (auto why = probe::foreign_program_problem(first_entry, head))
      throw Error("--probe: " + *why);
  }
  if (const auto* dir = dynamic_cast<const rootfs::DirRootFs*>(&overlay.lower())) {
    l.root = dir->dir();
  } else {
    l.source = std::make_unique<TempDirectory>("the image's files");
    l.image = &overlay.lower();
    l.root = l.source->path();
    // The image's directories, all of them, before the sandbox mounts its
    // root: the overlay takes a directory that appears in its lower layer
    // once mounted as missing, where a file appears fine.
    const auto t0 = std::chrono::steady_clock::now();
    l.write_out("/");
    l.write_directories("/");
    l.write_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    l.write_out(request.workdir.empty() ? "/" : request.workdir);
  }
  // What dslim laid over the source (the APPs, --add files, presets' files)
  // goes over it in the sandbox too.
  rootfs::materialize(overlay.upper(), l.upper.path());
  for (auto it = fs::recursive_directory_iterator(l.upper.path());
       it != fs::recursive_directory_iterator(); ++it) {
    if (it->is_regular_file() && !it->is_symlink()) {
      l.files.emplace_back(it->path().string(),
                           "/" + fs::relative(it->path(), l.upper.path()).string());
    }
  }
  if (l.image) {
    for (const auto& [host, at] : l.files) l.write_out(rootfs::parent_dir(at));
  }
  l.env = env;
  const auto ids = rootfs::user_ids(overlay, request.user, "user " + request.user);
  l.uid = ids.uid;
  l.gid = ids.gid;
}

Prober::~Prober() = default;

ProbeReport Prober::run(const ProbeRequest& probe, std::set<std::string>& paths) {
  Layout& l = *layout_;
  probe::ProbeSpec spec;
  spec.root = l.root;
  spec.files = l.files;
  spec.argv = l.entrypoint;
  const auto& args = probe.args.value_or(request_.cmd);
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  if (spec.argv.empty()) throw Error("--probe: no command to run (no Entrypoint, Cmd or ARGS)");
  spec.env = l.env;
  spec.workdir = request_.workdir.empty() ? "/" : request_.workdir;
  spec.uid = l.uid;
  spec.gid = l.gid;
  spec.timeout = request_.probe_timeout;
  spec.stop_signal = request_.stop_signal;
  spec.http_port = probe.http_port;
  spec.http_paths = probe.http_paths;
  if (l.image) {
    spec.before_access = [layout = &l](probe::AccessKind kind, const std::string& path) {
      layout->before_access(kind, path);
    };
  }
  const probe::ProbeResult result = probe::run_probe(spec);

  std::string shown;
  for (const auto& a : args) shown += (shown.empty() ? "" : " ") + a;
  if (!result.started) {
    throw Error("--probe \"" + shown + "\": " + spec.argv.front() +
                " cannot start in the sandbox: " + result.error);
  }
  ProbeReport report;
  report.args = args;
  report.exit_code = result.exit_code;
  report.signal = result.signal;
  report.timed_out = result.timed_out;
  report.stopped = result.stopped;
  report.http = result.http;
  report.seconds = result.seconds;
  report.setup_seconds = result.setup_seconds;
  report.written_entries = l.written.files + l.written.dirs - l.reported_files;
  report.written_bytes = l.written.bytes - l.reported_bytes;
  report.write_seconds = l.write_seconds - l.reported_seconds;
  l.reported_files += report.written_entries;
  l.reported_bytes += report.written_bytes;
  l.reported_seconds += report.write_seconds;

  std::map<std::string, std::string> first;  // path -> "pid N call"
  for (const auto& access : result.accesses) {
    const std::string who = "pid " + std::to_string(access.pid) + " " + access.call;
    if (access.kind == probe::AccessKind::Refused) {
      report.refused.push_back(who + (access.path.empty() ? "" : " " + access.path));
      continue;
    }
    if (access.path.empty() || sandbox_own(rootfs::normalize(access.path))) continue;
    // Resolved inside the source root, as everywhere: "/../../x" is "/x".
    std::vector<std::string> touched{access.path};
    // What the program writes is its own; the directory it writes into is
    // the image's (with the source's mode).
    const bool makes = access.kind == probe::AccessKind::Create ||
                       access.kind == probe::AccessKind::Mkdir ||
                       access.kind == probe::AccessKind::Rename;
    if (makes || access.write)
      touched.push_back(rootfs::parent_dir(rootfs::normalize(access.path)));
    for (const auto& path : touched) {
      std::set<std::string> found;
      try {
        resolve::select_entry(overlay_, path, found);
      } catch (const Error&) {
        continue;  // not in the source (a file the program made, a failed lookup)
      }
      for (const auto& p : found) {
        if (paths.insert(p).second) {
          report.added.push_back(p);
          first.emplace(p, who);
        }
      }
    }
  }
  for (const auto& path : report.added) report.touched_by.emplace_back(path, first[path]);
  return report;
}

}  // namespace dslim::slim
