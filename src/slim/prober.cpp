#include "slim/prober.hpp"

#include <stdlib.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <sstream>

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

// "65532", "nonroot", "1000:1000", "app:staff": numbers, or names looked up
// in the image's own /etc/passwd and /etc/group.
std::pair<uint32_t, uint32_t> user_ids(const std::string& user, const rootfs::RootFs& fs) {
  if (user.empty()) return {0, 0};
  const auto colon = user.find(':');
  const std::string name = user.substr(0, colon);
  const std::string group = colon == std::string::npos ? "" : user.substr(colon + 1);
  auto lookup = [&](const char* file, const std::string& key,
                    int field) -> std::optional<uint32_t> {
    if (!key.empty() && key.find_first_not_of("0123456789") == std::string::npos)
      return static_cast<uint32_t>(std::stoul(key));
    auto text = rootfs::read_text(fs, file);
    if (!text) return std::nullopt;
    std::istringstream lines(*text);
    for (std::string line; std::getline(lines, line);) {
      std::vector<std::string> fields;
      std::istringstream parts(line);
      for (std::string f; std::getline(parts, f, ':');) fields.push_back(f);
      if (fields.size() > static_cast<size_t>(field) && fields[0] == key &&
          !fields[field].empty() &&
          fields[field].find_first_not_of("0123456789") == std::string::npos)
        return static_cast<uint32_t>(std::stoul(fields[field]));
    }
    return std::nullopt;
  };
  const auto uid = lookup("/etc/passwd", name, 2);
  if (!uid) throw Error("--user " + user + ": no user " + name + " in the image's /etc/passwd");
  std::optional<uint32_t> gid =
      group.empty() ? lookup("/etc/passwd", name, 3) : lookup("/etc/group", group, 2);
  if (!gid) gid = *uid;
  return {*uid, *gid};
}

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
  std::unique_ptr<TempDirectory> source;  // an image source, written out
  std::string root;                       // the sandbox's lower layer
  TempDirectory upper{"the files dslim adds"};
  std::vector<std::pair<std::string, std::string>> files;  // host file -> in-root path
  std::vector<std::string> env, entrypoint;
  uint32_t uid = 0, gid = 0;
};

Prober::Prober(const SlimRequest& request, const rootfs::OverlayRootFs& overlay,
               const std::vector<std::string>& env, const std::string& first_entry)
    : request_(request), overlay_(overlay), layout_(std::make_unique<Layout>()) {
  if (auto why = probe::sandbox_unavailable()) {
    throw Error("--probe: no sandbox can be made here: " + *why +
                "; dslim never runs the program outside one");
  }
  Layout& l = *layout_;
  if (const auto* dir = dynamic_cast<const rootfs::DirRootFs*>(&overlay.lower())) {
    l.root = dir->dir();
  } else {
    l.source = std::make_unique<TempDirectory>("the image's files");
    rootfs::materialize(overlay.lower(), l.source->path());
    l.root = l.source->path();
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
  l.env = env;
  l.entrypoint =
      request.entrypoint.empty() ? std::vector<std::string>{first_entry} : request.entrypoint;
  std::tie(l.uid, l.gid) = user_ids(request.user, overlay);
}

Prober::~Prober() = default;

ProbeReport Prober::run(const ProbeRequest& probe, std::set<std::string>& paths) {
  const Layout& l = *layout_;
  probe::ProbeSpec spec;
  spec.root = l.root;
  spec.files = l.files;
  spec.argv = l.entrypoint;
  const auto& args = probe.args.empty() && probe.http_port != 0 ? request_.cmd : probe.args;
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.env = l.env;
  spec.workdir = request_.workdir.empty() ? "/" : request_.workdir;
  spec.uid = l.uid;
  spec.gid = l.gid;
  spec.timeout = request_.probe_timeout;
  spec.http_port = probe.http_port;
  spec.http_paths = probe.http_paths;
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
