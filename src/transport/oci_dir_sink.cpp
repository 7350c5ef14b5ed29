// oci:DIR[:TAG]. A new (or empty) DIR is built whole under a temporary name
// and renamed into place. An existing layout is updated in place: blobs are
// content-addressed, so an existing one is kept and a new one appears only
// under its final name once complete; index.json is replaced atomically last,
// which is the moment the tag moves. On failure, blobs this run added are
// removed again and the old index.json is untouched.
//
// Several runs may write tags into one layout at once (CI jobs sharing a
// directory). Blobs need no lock: each appears whole under its digest, and
// two writers of one blob write the same bytes. index.json is a
// read-modify-write, though: two unlocked runs would each drop the other's
// tag. So that step alone runs under an flock on the layout directory:
// no lock file for other tools to trip over, never held while blobs stream
// (runs queue only for a few milliseconds), and released by the kernel when
// a run dies, so a SIGKILL never leaves the layout locked.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "dslim/error.hpp"
#include "dslim/sink.hpp"
#include "oci_layout.hpp"
#include "sinks.hpp"
#include "temp_path.hpp"

namespace dslim {
namespace {

namespace fs = std::filesystem;

std::optional<std::string> read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw Error("cannot read " + p.string());
  return ss.str();
}

void make_dir(const fs::path& p) {
  if (::mkdir(p.c_str(), 0777) != 0 && errno != EEXIST) throw_errno("cannot create", p.string());
}

// Writes the blobs missing from `dir`; returns the paths it created.
std::vector<fs::path> write_blobs(const fs::path& dir, const std::vector<const Blob*>& blobs) {
  make_dir(dir / "blobs");
  make_dir(dir / "blobs" / "sha256");
  std::vector<fs::path> added;
  try {
    for (const Blob* b : blobs) {
      fs::path p = dir / blob_path(b->digest());
      struct stat st;
      if (::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
          static_cast<uint64_t>(st.st_size) == b->size())
        continue;
      TempFile f(p.string());
      auto r = b->open();  // streamed: a cached layer is never held whole
      std::vector<char> buf(1 << 18);
      while (size_t n = r->read(buf.data(), buf.size())) f.write({buf.data(), n});
      f.commit();
      added.push_back(p);
    }
  } catch (...) {
    for (const auto& p : added) ::unlink(p.c_str());
    throw;
  }
  return added;
}

bool is_empty_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec) && fs::is_empty(p, ec) && !ec;
}

// An exclusive flock on a directory, for as long as it lives.
class DirLock {
 public:
  explicit DirLock(const fs::path& dir)
      : fd_(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {
    if (fd_ < 0) throw_errno("cannot open", dir.string());
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd_);
      errno = err;
      throw_errno("cannot lock", dir.string());
    }
  }
  ~DirLock() { ::close(fd_); }  // closing releases the lock
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  int fd_;
};

// Adds the blobs to an existing layout, then moves `tag` to the top.
void update_layout(const fs::path& dir, const Publication& pub, const std::string& tag) {
  auto layout = read_file(dir / kOciLayoutFile);
  if (!layout)
    throw Error(dir.string() + " exists and is not an OCI image layout (no oci-layout file)");
  check_oci_layout(*layout, dir.string());

  std::vector<fs::path> added = write_blobs(dir, pub.blobs);
  try {
    DirLock lock(dir);
    oci::Index index;
    if (auto text = read_file(dir / kIndexFile))
      index = oci::parse_index(*text, (dir / kIndexFile).string());
    set_tag(index, pub.descriptor(), pub.referrers, tag);
    write_file_atomic((dir / kIndexFile).string(), oci::to_json(index));
  } catch (...) {
    for (const auto& p : added) ::unlink(p.c_str());
    throw;
  }
}

}  // namespace

void write_oci_dir(const Publication& pub, const Reference& ref) {
  fs::path dir = prepare_destination(ref.path);
  std::string tag = ref.tag.empty() ? kDefaultTag : ref.tag;

  std::error_code ec;
  fs::file_status st = fs::status(dir, ec);
  if (!fs::exists(st) || is_empty_dir(dir)) {
    TempDir tmp(dir.string());
    write_blobs(tmp.path(), pub.blobs);
    oci::Index index;
    set_tag(index, pub.descriptor(), pub.referrers, tag);
    write_file_atomic(tmp.path() + "/" + kOciLayoutFile, kOciLayoutJson);
    write_file_atomic(tmp.path() + "/" + kIndexFile, oci::to_json(index));
    if (tmp.try_commit()) return;
    // A concurrent run created the layout first: add the tag to it instead.
  } else if (!fs::is_directory(st)) {
    throw Error(dir.string() + " exists and is not a directory");
  }
  update_layout(dir, pub, tag);
}

}  // namespace dslim
