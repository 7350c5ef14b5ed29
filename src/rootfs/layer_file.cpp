#include "layer_file.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "dslim/crc32.hpp"
#include "dslim/fd_io.hpp"
#include "mapped_file.hpp"

namespace dslim::rootfs {
namespace {

constexpr char kMagic[8] = {'d', 's', 'l', 'i', 'm', 'L', 'Y', 'R'};
constexpr uint32_t kVersion = 2;
constexpr uint64_t kHeaderSize = 128;
constexpr size_t kBlobAt = 32;
// 64 KiB: ~4k writes for a 273 MB tar, nothing beside inflating it, while a
// small layer (and the fuzzer, 10x faster) pays for no large mapping.
constexpr size_t kChunk = 1 << 16;
constexpr std::string_view kWhiteout = ".wh.";
constexpr std::string_view kOpaque = ".wh..wh..opq";

struct ReadDeleter {
  void operator()(struct archive* a) const { archive_read_free(a); }
};

bool read_at(int fd, void* data, size_t n, uint64_t at) {
  char* p = static_cast<char*>(data);
  while (n > 0) {
    ssize_t r = ::pread(fd, p, n, static_cast<off_t>(at));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
    at += static_cast<uint64_t>(r);
  }
  return true;
}

// Pulls the tar from the decompressor for libarchive, and on the way writes
// every byte to the layer file. The tar is not hashed: its diff_id is only
// a name here, and the entry is bound to the blob digest, which the reader
// checks (hashing 270 MB of tar cost a cold run ~20% of its CPU).
struct Tee {
  Tee(ByteReader& in, int fd, uint64_t max, const std::string& where)
      : in(in),
        fd(fd),
        max(max),
        where(where),
        write_error(where + ": cannot write the layer file") {}
  ByteReader& in;
  int fd;
  uint64_t max;
  const std::string& where;
  const std::string write_error;  // made once: pull() runs for every 64 KiB
  std::vector<char> buf = std::vector<char>(kChunk);
  uint64_t size = 0;
  std::exception_ptr error;

  size_t pull() {
    size_t n = in.read(buf.data(), buf.size());
    if (n > max - size)
      throw Error(where + ": inflates to more than " + std::to_string(max) +
                  " bytes, the bound for one layer (--max-layer-size raises it)");
    pwrite_all(fd, {buf.data(), n}, kHeaderSize + size, write_error);
    size += n;
    return n;
  }
  static la_ssize_t callback(struct archive* a, void* self, const void** out) {
    auto* t = static_cast<Tee*>(self);
    try {
      size_t n = t->pull();
      *out = t->buf.data();
      return static_cast<la_ssize_t>(n);
    } catch (...) {
      t->error = std::current_exception();
      archive_set_error(a, EIO, "read failed");
      return -1;
    }
  }
};

std::string base_of(const std::string& path) {
  return path.substr(path.rfind('/') + 1);
}

std::string child_of(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

// "./usr//bin/" -> "/usr/bin". Any ".." is refused rather than clamped: a
// layer holding one was made to attack whoever unpacks it.
std::string entry_path(const std::string& raw, const std::string& where) {
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

}  // namespace

LayerFile::LayerFile(int fd, std::string what) : fd_(fd), what_(std::move(what)) {}

LayerFile::~LayerFile() {
  ::close(fd_);
}

std::unique_ptr<FileView> LayerFile::view(const LayerEntry& e) const {
  uint64_t at = kHeaderSize + e.offset;
  // Populated at once: the CRC check reads every page right away.
  auto view = map_file_range(fd_, at, e.stat.size, true, what_ + ": " + e.path);
  struct stat st {};
  // A file cut short under the mapping would fault on read: check first.
  if (::fstat(fd_, &st) != 0 || static_cast<uint64_t>(st.st_size) < at + e.stat.size)
    throw CorruptLayerFile(what_ + ": " + e.path + " lies past the end of the layer file");
  auto bytes = view->bytes();
  if (crc32(bytes.data(), bytes.size()) != e.crc)
    throw CorruptLayerFile(what_ + ": the bytes of " + e.path + " are damaged");
  return view;
}

LayerIndex write_layer_file(int fd, ByteReader& tar, const std::string& diff_id,
                            const std::string& blob, const LayeredLimits& limits,
                            std::atomic<uint64_t>& entries, const std::string& where) {
  Tee tee(tar, fd, limits.max_layer_inflated, where);
  std::unique_ptr<struct archive, ReadDeleter> a(archive_read_new());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_empty(a.get());  // a layer may be an empty file
  std::string last;
  auto fail = [&]() {
    if (tee.error) std::rethrow_exception(tee.error);
    const char* msg = archive_error_string(a.get());
    throw Error(where + ": corrupt tar" + (last.empty() ? "" : " after " + last) + ": " +
                (msg ? msg : "unknown error"));
  };
  if (archive_read_open(a.get(), &tee, nullptr, Tee::callback, nullptr) != ARCHIVE_OK) fail();

  LayerIndex index;
  archive_entry* ae = nullptr;
  for (;;) {
    int rc = archive_read_next_header(a.get(), &ae);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN) fail();
    if (++entries > limits.max_entries)
      throw Error(where + ": the image holds more than " + std::to_string(limits.max_entries) +
                  " entries, the bound for one image (--max-entries raises it)");
    LayerEntry e;
    std::string raw = archive_entry_pathname(ae) ? archive_entry_pathname(ae) : "";
    last = raw;
    e.path = entry_path(raw, where);
    std::string name = e.path == "/" ? "" : base_of(e.path);
    if (name.starts_with(kWhiteout)) {
      std::string dir = parent_dir(e.path);
      if (name == kOpaque) {
        e.kind = LayerEntry::Opaque;
        e.path = dir;
      } else if (name.starts_with(".wh..wh.")) {
        continue;  // aufs bookkeeping (.wh..wh.plnk and the like), not a whiteout
      } else {
        std::string target = name.substr(kWhiteout.size());
        if (target.empty() || target == ".")
          throw Error(where + ": entry " + raw + " whites out " +
                      (dir == "/" ? std::string("the root /") : "its own directory " + dir));
        if (target == "..") throw Error(where + ": entry " + raw + " escapes the root");
        e.kind = LayerEntry::Whiteout;
        e.path = child_of(dir, target);
      }
      index.entries.push_back(std::move(e));
      continue;
    }
    Stat& st = e.stat;
    st.mode = archive_entry_perm(ae) & 07777;
    st.uid = static_cast<uint32_t>(archive_entry_uid(ae));
    st.gid = static_cast<uint32_t>(archive_entry_gid(ae));
    if (const char* hl = archive_entry_hardlink(ae)) {
      e.hardlink = true;
      e.link = entry_path(hl, where);
    } else {
      switch (archive_entry_filetype(ae)) {
        case AE_IFREG: {
          if (archive_entry_sparse_count(ae) > 0)
            throw Error(where + ": entry " + raw + " is a sparse file, which is not supported");
          st.type = FileType::Regular;
          st.size = static_cast<uint64_t>(archive_entry_size(ae));
          // The reader has consumed exactly the headers: its position is
          // where the entry's bytes start in the tar.
          e.offset = static_cast<uint64_t>(archive_filter_bytes(a.get(), 0));
          const void* buf = nullptr;
          size_t len = 0;
          la_int64_t off = 0;
          uint64_t got = 0;
          for (;;) {
            int drc = archive_read_data_block(a.get(), &buf, &len, &off);
            if (drc == ARCHIVE_EOF) break;
            if (drc < ARCHIVE_WARN) fail();
            if (static_cast<uint64_t>(off) != got)
              throw Error(where + ": entry " + raw + " has holes, which is not supported");
            e.crc = crc32(buf, len, e.crc);
            got += len;
          }
          if (got != st.size) throw Error(where + ": truncated tar at " + raw);
          break;
        }
        case AE_IFDIR:
          st.type = FileType::Directory;
          break;
        case AE_IFLNK:
          st.type = FileType::Symlink;
          e.link = archive_entry_symlink(ae) ? archive_entry_symlink(ae) : "";
          st.size = e.link.size();
          break;
        default:
          st.type = FileType::Other;  // devices, FIFOs, sockets
      }
    }
    index.entries.push_back(std::move(e));
  }
  // Bytes after the end-of-archive blocks are part of the tar too.
  while (tee.pull() > 0) {
  }
  index.tar_size = tee.size;
  index.diff_id = diff_id;
  index.blob = blob;
  if (blob.size() > kHeaderSize - kBlobAt - 1)
    throw Error(where + ": the blob digest " + blob + " is too long");

  std::string body = serialize(index);
  char header[kHeaderSize] = {};
  std::memcpy(header, kMagic, sizeof kMagic);
  uint64_t index_size = body.size();
  uint32_t crc = crc32(body);
  std::memcpy(header + 8, &kVersion, 4);
  std::memcpy(header + 12, &crc, 4);
  std::memcpy(header + 16, &index.tar_size, 8);
  std::memcpy(header + 24, &index_size, 8);
  std::memcpy(header + kBlobAt, blob.data(), blob.size());
  pwrite_all(fd, body, kHeaderSize + index.tar_size, tee.write_error);
  pwrite_all(fd, {header, sizeof header}, 0, tee.write_error);
  return index;
}

namespace {

struct Header {
  uint32_t index_crc = 0;
  uint64_t tar_size = 0;
  uint64_t index_size = 0;
  std::string blob;
};

Header read_header(int fd, const std::string& what) {
  auto corrupt = [&](const std::string& why) { return CorruptLayerFile(what + ": " + why); };
  char header[kHeaderSize];
  if (!read_at(fd, header, sizeof header, 0)) throw corrupt("shorter than its header");
  if (std::memcmp(header, kMagic, sizeof kMagic) != 0) throw corrupt("not a dslim layer file");
  uint32_t version;
  Header h;
  std::memcpy(&version, header + 8, 4);
  std::memcpy(&h.index_crc, header + 12, 4);
  std::memcpy(&h.tar_size, header + 16, 8);
  std::memcpy(&h.index_size, header + 24, 8);
  if (version != kVersion) throw corrupt("layer file version " + std::to_string(version));
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw corrupt(std::strerror(errno));
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (h.tar_size > size || h.index_size > size || kHeaderSize + h.tar_size + h.index_size != size)
    throw corrupt("its size does not match its header");
  h.blob.assign(header + kBlobAt, strnlen(header + kBlobAt, kHeaderSize - kBlobAt));
  return h;
}

}  // namespace

std::string check_layer_file(int fd, const std::string& what) {
  return read_header(fd, what).blob;
}

LayerIndex read_layer_file(int fd, const std::string& what) {
  auto corrupt = [&](const std::string& why) -> CorruptLayerFile {
    return CorruptLayerFile(what + ": " + why);
  };
  Header h = read_header(fd, what);
  std::string body(h.index_size, '\0');
  if (!read_at(fd, body.data(), body.size(), kHeaderSize + h.tar_size))
    throw corrupt("cannot read its index");
  if (crc32(body) != h.index_crc) throw corrupt("its index is damaged");
  try {
    LayerIndex index = parse_layer_index(body, what);
    if (index.tar_size != h.tar_size) throw corrupt("its index does not match its header");
    index.blob = h.blob;
    return index;
  } catch (const CorruptLayerFile&) {
    throw;
  } catch (const Error& e) {
    throw corrupt(e.what());
  }
}

}  // namespace dslim::rootfs
