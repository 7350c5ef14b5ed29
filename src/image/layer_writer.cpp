// The deterministic layer writer. Format choice: libarchive's pax-restricted
// tar writes plain ustar headers and adds a pax extended header only for what
// ustar cannot hold (a path that does not fit ustar's 155+100 split, non-ASCII
// names, sizes >= 8 GiB, big ids), so ordinary paths give classic ustar bytes
// and long ones still work; libarchive names the extended header
// "dir/PaxHeader/name" (no pid), and we never set atime/ctime/uname/gname/
// xattrs, so nothing host- or run-dependent enters the stream. A non-ASCII
// name would otherwise be converted through the process locale (different
// bytes under C and UTF-8 locales), so when a layer has one, names are stored
// as raw bytes (hdrcharset=BINARY); libarchive then adds that record to every
// entry, which is why it is not the default. GNU tar format would also work but its long-name
// records are a GNU extension; pax is POSIX and what Docker/BuildKit emit.
#include "dslim/layer_writer.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <memory>

#include "compressor.hpp"
#include "dslim/digest.hpp"
#include "dslim/error.hpp"

namespace dslim {
namespace {

constexpr uint32_t kPermMask = 07777;

}  // namespace

// Everything the tar stream passes through: the diff_id hash, the
// compressor, the digest hash and a buffer of the compressed output.
struct LayerWriter::Pipeline {
  Sha256 diff_id;
  Sha256 digest;
  std::string compressed;
  uint64_t tar_size = 0;
  std::unique_ptr<Compressor> compressor;
  std::string error;  // an exception cannot cross libarchive's C frames
};

namespace {

la_ssize_t write_cb(struct archive*, void* client, const void* buf, size_t n) {
  auto* p = static_cast<LayerWriter::Pipeline*>(client);
  try {
    std::string_view bytes(static_cast<const char*>(buf), n);
    p->diff_id.update(bytes);
    p->tar_size += n;
    if (p->compressor) p->compressor->write(bytes);
    return static_cast<la_ssize_t>(n);
  } catch (const std::exception& e) {
    p->error = e.what();
    return -1;
  }
}

struct ArchiveDeleter {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

}  // namespace

Compression parse_compression(const std::string& name) {
  if (name == "gzip") return Compression::Gzip;
  if (name == "zstd") return Compression::Zstd;
  if (name == "none") return Compression::None;
  throw Error("unknown compression '" + name + "' (expected gzip, zstd or none)", ErrorKind::Usage);
}

void set_compression_level(LayerOptions& options, int level) {
  if (options.compression == Compression::None)
    throw Error("--compression-level needs --compression gzip or zstd", ErrorKind::Usage);
  const bool gzip = options.compression == Compression::Gzip;
  const int max = gzip ? 12 : 19;
  if (level < 1 || level > max)
    throw Error("--compression-level " + std::to_string(level) + ": " + (gzip ? "gzip" : "zstd") +
                    " takes 1 to " + std::to_string(max),
                ErrorKind::Usage);
  (gzip ? options.gzip_level : options.zstd_level) = level;
}

const char* layer_media_type(Compression compression) {
  switch (compression) {
    case Compression::Gzip:
      return oci::media_type::kLayerGzip;
    case Compression::Zstd:
      return oci::media_type::kLayerZstd;
    case Compression::None:
      return oci::media_type::kLayerTar;
  }
  return oci::media_type::kLayerTar;
}

std::string clean_image_path(const std::string& path) {
  if (path.empty() || path[0] != '/')
    throw Error("image path '" + path + "' must be absolute", ErrorKind::Usage);
  std::string out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string_view comp(path.data() + i, j - i);
    i = j + 1;
    if (comp.empty() || comp == ".") continue;
    if (comp == "..")
      throw Error("image path '" + path + "' must not contain '..'", ErrorKind::Usage);
    out += '/';
    out += comp;
  }
  return out.empty() ? "/" : out;
}

LayerWriter::LayerWriter(LayerOptions options) : options_(options) {}

void LayerWriter::add_file(const std::string& image_path, const rootfs::RootFs& fs,
                           const std::string& source_path, EntryAttrs attrs) {
  Entry e;
  e.kind = Kind::File;
  e.fs = &fs;
  e.source = source_path;
  if (attrs.mode) {
    e.mode = *attrs.mode;
  } else {
    auto st = fs.lstat(source_path);
    if (!st) throw Error(fs.describe() + ": " + source_path + ": no such file");
    if (st->type != rootfs::FileType::Regular)
      throw Error(fs.describe() + ": " + source_path + ": not a regular file");
    e.mode = st->mode;
  }
  e.uid = attrs.uid.value_or(options_.uid);
  e.gid = attrs.gid.value_or(options_.gid);
  add(image_path, std::move(e));
}

void LayerWriter::add_bytes(const std::string& image_path, std::string contents, EntryAttrs attrs) {
  Entry e;
  e.kind = Kind::Bytes;
  e.source = std::move(contents);
  e.mode = attrs.mode.value_or(0644);
  e.uid = attrs.uid.value_or(options_.uid);
  e.gid = attrs.gid.value_or(options_.gid);
  add(image_path, std::move(e));
}

void LayerWriter::add_dir(const std::string& image_path, EntryAttrs attrs) {
  Entry e;
  e.kind = Kind::Dir;
  e.mode = attrs.mode.value_or(0755);
  e.uid = attrs.uid.value_or(options_.uid);
  e.gid = attrs.gid.value_or(options_.gid);
  add(image_path, std::move(e));
}

void LayerWriter::add_symlink(const std::string& image_path, const std::string& target,
                              EntryAttrs attrs) {
  if (target.empty())
    throw Error("symlink " + image_path + " has an empty target", ErrorKind::Usage);
  Entry e;
  e.kind = Kind::Symlink;
  e.source = target;
  e.mode = attrs.mode.value_or(0777);
  e.uid = attrs.uid.value_or(options_.uid);
  e.gid = attrs.gid.value_or(options_.gid);
  add(image_path, std::move(e));
}

void LayerWriter::add_from(const std::string& image_path, const rootfs::RootFs& fs,
                           const std::string& source_path, EntryAttrs attrs) {
  auto st = fs.lstat(source_path);
  if (!st) throw Error(fs.describe() + ": " + source_path + ": no such file");
  if (!attrs.mode) attrs.mode = st->mode;
  switch (st->type) {
    case rootfs::FileType::Regular:
      return add_file(image_path, fs, source_path, attrs);
    case rootfs::FileType::Directory:
      return add_dir(image_path, attrs);
    case rootfs::FileType::Symlink:
      return add_symlink(image_path, fs.readlink(source_path), attrs);
    case rootfs::FileType::Other:
      break;
  }
  throw Error(fs.describe() + ": " + source_path + ": not a file, directory or symlink");
}

void LayerWriter::add(const std::string& image_path, Entry entry) {
  if (finished_) throw Error("layer writer used after finish()");
  std::string path = clean_image_path(image_path);
  if (path == "/") {
    if (entry.kind != Kind::Dir)
      throw Error("image path '/' must be a directory", ErrorKind::Usage);
    return;  // the root is implied; layers carry no entry for it
  }
  entry.mode &= kPermMask;
  auto [it, inserted] = entries_.emplace(path, entry);
  if (!inserted && !same(it->second, entry))
    throw Error("conflicting entries for " + path + " in the layer", ErrorKind::Input);
}

bool LayerWriter::same(const Entry& a, const Entry& b) const {
  if (a.mode != b.mode || a.uid != b.uid || a.gid != b.gid) return false;
  bool a_file = a.kind == Kind::File || a.kind == Kind::Bytes;
  bool b_file = b.kind == Kind::File || b.kind == Kind::Bytes;
  if (a_file && b_file) {
    if (a.kind == Kind::File && b.kind == Kind::File && a.fs == b.fs && a.source == b.source)
      return true;
    auto bytes = [](const Entry& e, std::unique_ptr<rootfs::FileView>& hold) -> std::string_view {
      if (e.kind == Kind::Bytes) return e.source;
      hold = e.fs->open(e.source);
      auto s = hold->bytes();
      return {reinterpret_cast<const char*>(s.data()), s.size()};
    };
    std::unique_ptr<rootfs::FileView> ha, hb;
    return bytes(a, ha) == bytes(b, hb);
  }
  return a.kind == b.kind && a.source == b.source;
}

Layer LayerWriter::finish(LayerReuse* reuse) {
  if (finished_) throw Error("layer writer used after finish()");
  finished_ = true;

  // Every ancestor of every entry, explicit; a non-directory in the way of a
  // descendant is a conflict.
  std::map<std::string, Entry> implied;
  for (const auto& [path, entry] : entries_) {
    for (size_t slash = path.find('/', 1); slash != std::string::npos;
         slash = path.find('/', slash + 1)) {
      std::string parent = path.substr(0, slash);
      auto it = entries_.find(parent);
      if (it != entries_.end()) {
        if (it->second.kind != Kind::Dir)
          throw Error("conflicting entries for " + parent +
                      " in the layer: it is not a directory "
                      "but " +
                      path + " is inside it");
        continue;
      }
      Entry dir;
      dir.kind = Kind::Dir;
      dir.mode = 0755;
      dir.uid = options_.uid;
      dir.gid = options_.gid;
      dir.implicit = true;
      implied.emplace(parent, dir);
    }
  }
  entries_.merge(implied);

  std::string variant = compression_variant(options_);
  Layer layer;
  layer.files = listing();
  std::string key;
  if (reuse) {
    key = reuse_key();
    if (auto hit = reuse->find(key, variant, layer_media_type(options_.compression))) {
      layer.blob = std::move(hit->blob);
      layer.diff_id = std::move(hit->diff_id);
      layer.tar_size = hit->tar_size;
      layer.reused = true;
      return layer;
    }
  }
  Pipeline p;
  // Room for the whole tar up front: growing the string would copy it and
  // touch every page again; untouched reserved pages cost nothing.
  size_t estimate = 0;
  for (const auto& f : layer.files) estimate += f.size + 1536;  // + headers
  p.compressed.reserve(estimate + estimate / 64);
  p.compressor = make_compressor(options_.compression, options_, [&p](std::string_view out) {
    p.digest.update(out);
    p.compressed.append(out);
  });
  write_tar(p);
  p.compressor->finish();
  layer.diff_id = p.diff_id.finish();
  layer.tar_size = p.tar_size;
  std::string digest = p.digest.finish();
  layer.blob = Blob::from_content(layer_media_type(options_.compression), std::move(digest),
                                  memory_content(std::move(p.compressed)));
  if (reuse) reuse->keep(key, variant, {layer.blob, layer.diff_id, layer.tar_size});
  return layer;
}

// The entries as the tar holds them, in its order.
std::vector<LayerFile> LayerWriter::listing() const {
  std::vector<LayerFile> files;
  for (const auto& [path, entry] : entries_) {
    LayerFile& f = files.emplace_back();
    f.path = path;
    f.type = entry.kind == Kind::Dir       ? LayerEntryType::Dir
             : entry.kind == Kind::Symlink ? LayerEntryType::Symlink
                                           : LayerEntryType::File;
    if (entry.kind == Kind::Bytes) f.size = entry.source.size();
    if (entry.kind == Kind::File) {
      auto st = entry.fs->lstat(entry.source);
      if (!st) throw Error(entry.fs->describe() + ": " + entry.source + ": no such file");
      f.size = st->size;
    }
    f.mode = entry.mode;
    f.uid = entry.uid;
    f.gid = entry.gid;
    f.mtime = options_.epoch;
    if (entry.kind == Kind::Symlink) f.link_target = entry.source;
  }
  return files;
}

// SHA-256 over everything that decides the tar's bytes: the tar writer
// (libarchive's version), the epoch, and each entry's path, kind, mode,
// owner, target or contents. Fields are length-prefixed, so no two entry
// lists share a key.
std::string LayerWriter::reuse_key() const {
  Sha256 h;
  auto field = [&h](std::string_view v) {
    uint64_t n = v.size();
    h.update(&n, sizeof n);
    h.update(v);
  };
  field("dslim layer 1");
  field(archive_version_string());
  field(std::to_string(options_.epoch));
  for (const auto& [path, entry] : entries_) {
    field(path);
    field(std::to_string(static_cast<int>(entry.kind)) + " " + std::to_string(entry.mode) + " " +
          std::to_string(entry.uid) + " " + std::to_string(entry.gid));
    switch (entry.kind) {
      case Kind::File:
        if (auto id = entry.fs->content_id(entry.source)) {
          field(*id);
        } else {
          auto view = entry.fs->open(entry.source);
          auto b = view->bytes();
          field(sha256_digest({reinterpret_cast<const char*>(b.data()), b.size()}));
        }
        break;
      case Kind::Bytes:
        field(sha256_digest(entry.source));
        break;
      case Kind::Symlink:
        field(entry.source);
        break;
      case Kind::Dir:
        break;
    }
  }
  return h.finish();
}

void LayerWriter::write_tar(Pipeline& p) const {
  std::unique_ptr<struct archive, ArchiveDeleter> a(archive_write_new());
  auto check = [&](int rc, const std::string& what) {
    // A warning (e.g. a name libarchive could not convert) would make the
    // bytes depend on the locale, so it fails too.
    if (rc == ARCHIVE_OK) return;
    std::string msg = !p.error.empty()                ? p.error
                      : archive_error_string(a.get()) ? archive_error_string(a.get())
                                                      : "unknown error";
    throw Error("cannot write layer entry " + what + ": " + msg);
  };
  check(archive_write_set_format_pax_restricted(a.get()), "(format)");
  // No padding after the end-of-archive blocks: fewer bytes, same tar.
  check(archive_write_set_bytes_in_last_block(a.get(), 1), "(blocking)");
  auto non_ascii = [](const std::string& s) {
    for (unsigned char c : s)
      if (c >= 0x80) return true;
    return false;
  };
  for (const auto& [path, entry] : entries_) {
    if (non_ascii(path) || (entry.kind == Kind::Symlink && non_ascii(entry.source))) {
      check(archive_write_set_options(a.get(), "hdrcharset=BINARY"), "(charset)");
      break;
    }
  }
  check(archive_write_open2(a.get(), &p, nullptr, write_cb, nullptr, nullptr), "(open)");

  // std::map orders by byte-wise path, so a parent always precedes its children.
  for (const auto& [path, entry] : entries_) {
    std::unique_ptr<archive_entry, EntryDeleter> e(archive_entry_new());
    archive_entry_copy_pathname(e.get(), path.c_str() + 1);  // tar paths are relative
    archive_entry_set_perm(e.get(), entry.mode);
    archive_entry_set_uid(e.get(), entry.uid);
    archive_entry_set_gid(e.get(), entry.gid);
    archive_entry_set_mtime(e.get(), options_.epoch, 0);

    std::unique_ptr<rootfs::FileView> view;
    std::string_view data;
    switch (entry.kind) {
      case Kind::Dir:
        archive_entry_set_filetype(e.get(), AE_IFDIR);
        break;
      case Kind::Symlink:
        archive_entry_set_filetype(e.get(), AE_IFLNK);
        archive_entry_copy_symlink(e.get(), entry.source.c_str());
        break;
      case Kind::Bytes:
        data = entry.source;
        archive_entry_set_filetype(e.get(), AE_IFREG);
        break;
      case Kind::File: {
        view = entry.fs->open(entry.source);
        auto s = view->bytes();
        data = {reinterpret_cast<const char*>(s.data()), s.size()};
        archive_entry_set_filetype(e.get(), AE_IFREG);
        break;
      }
    }
    archive_entry_set_size(e.get(), static_cast<la_int64_t>(data.size()));
    check(archive_write_header(a.get(), e.get()), path);
    size_t off = 0;
    while (off < data.size()) {
      la_ssize_t n = archive_write_data(a.get(), data.data() + off, data.size() - off);
      if (n <= 0) check(ARCHIVE_FATAL, path);
      off += static_cast<size_t>(n);
    }
  }
  check(archive_write_close(a.get()), "(close)");
}

}  // namespace dslim
