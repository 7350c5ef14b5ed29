#pragma once
// LayerWriter: the deterministic layer (DESIGN.md §5). Entries are collected,
// then written sorted by path with every ancestor directory explicit, owner
// 0:0 unless given, mtime = the epoch passed in, no atime/ctime/xattrs/user
// names, into a pax-restricted tar (plain ustar headers; a pax record only for
// what ustar cannot hold, e.g. paths over 100 bytes), compressed at a fixed
// level with a gzip header carrying no name and no time. The digest (of the
// compressed bytes) and diff_id (of the tar) are computed while streaming.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dslim/blob.hpp"
#include "dslim/layer_listing.hpp"
#include "dslim/rootfs.hpp"

namespace dslim {

enum class Compression { Gzip, Zstd, None };

// "gzip" / "zstd" / "none"; throws dslim::Error (Usage) for anything else.
Compression parse_compression(const std::string& name);
// The OCI layer media type for a compression.
const char* layer_media_type(Compression compression);

struct Layer {
  Blob blob;                     // compressed bytes, digest, media type
  std::string diff_id;           // sha256 of the uncompressed tar
  uint64_t tar_size = 0;         // uncompressed bytes
  std::vector<LayerFile> files;  // the entries written, in tar order
  bool reused = false;           // the compressed bytes came from a LayerReuse
};

// What a LayerReuse hands back: a layer compressed by an earlier run.
struct ReusedLayer {
  Blob blob;
  std::string diff_id;
  uint64_t tar_size = 0;
};

// Compressed layers kept by what went into them, so an unchanged layer is
// neither written nor compressed again (a warm run). `key` digests the
// entries and their contents (LayerWriter::finish says how); `variant`
// names the compressor, level and library version: the same tar under
// another one would give other bytes.
class LayerReuse {
 public:
  virtual ~LayerReuse() = default;
  virtual std::optional<ReusedLayer> find(const std::string& key, const std::string& variant,
                                          const std::string& media_type) = 0;
  virtual void keep(const std::string& key, const std::string& variant,
                    const ReusedLayer& layer) = 0;
};

struct LayerOptions {
  Compression compression = Compression::Gzip;
  int64_t epoch = 0;  // mtime of every entry (SOURCE_DATE_EPOCH or 0)
  uint32_t uid = 0;   // default owner of every entry
  uint32_t gid = 0;
  int gzip_level = 6;  // fixed so the bytes do not depend on a library default
  int zstd_level = 3;
};

// --compression-level for options.compression: gzip 1-12 (libdeflate's
// scale, 10-12 slower and smaller than gzip -9 can make), zstd 1-19 (20-22
// need more decoder memory than some runtimes allow). Throws dslim::Error
// (Usage) naming the range.
void set_compression_level(LayerOptions& options, int level);

// Optional per-entry overrides; unset fields take the source's mode and the
// writer's default owner.
struct EntryAttrs {
  std::optional<uint32_t> mode = std::nullopt;  // permission bits (07777)
  std::optional<uint32_t> uid = std::nullopt;
  std::optional<uint32_t> gid = std::nullopt;
};

class LayerWriter {
 public:
  explicit LayerWriter(LayerOptions options = {});

  // A regular file at `image_path` holding the bytes of `source_path` in `fs`
  // (read at finish(); `fs` must outlive the writer). Mode defaults to the
  // source file's. Host files: pass a rootfs::DirRootFs("/").
  void add_file(const std::string& image_path, const rootfs::RootFs& fs,
                const std::string& source_path, EntryAttrs attrs = {});
  // A regular file with the given contents (generated files: passwd, ...).
  void add_bytes(const std::string& image_path, std::string contents, EntryAttrs attrs = {});
  // Mode defaults to 0755.
  void add_dir(const std::string& image_path, EntryAttrs attrs = {});
  // Target stored exactly as given.
  void add_symlink(const std::string& image_path, const std::string& target, EntryAttrs attrs = {});
  // Copies the entry at `source_path` (not following a final symlink) as
  // whatever it is: file, directory (the entry only, not its children) or
  // symlink. Throws for devices, sockets, fifos.
  void add_from(const std::string& image_path, const rootfs::RootFs& fs,
                const std::string& source_path, EntryAttrs attrs = {});

  // Adding the same path twice is fine when both entries are identical
  // (same kind, mode, owner, target or bytes); a conflict throws dslim::Error
  // naming the path. So does a path used both as a directory and a non-dir.

  // Number of entries added so far (explicit ones only).
  size_t size() const { return entries_.size(); }

  // Writes the tar and compresses it, or takes the compressed layer from
  // `reuse` when it holds one made from the same entries and contents (a
  // file's contents named by RootFs::content_id, else by their SHA-256).
  // The writer is spent afterwards.
  Layer finish(LayerReuse* reuse = nullptr);

  struct Pipeline;  // where the tar stream goes

 private:
  enum class Kind { File, Bytes, Dir, Symlink };
  struct Entry {
    Kind kind = Kind::File;
    uint32_t mode = 0;
    uint32_t uid = 0;
    uint32_t gid = 0;
    const rootfs::RootFs* fs = nullptr;  // Kind::File
    std::string source;                  // File: source path; Bytes: contents; Symlink: target
    bool implicit = false;               // a parent directory nobody asked for
  };
  void add(const std::string& image_path, Entry entry);
  void write_tar(Pipeline& p) const;
  std::vector<LayerFile> listing() const;
  std::string reuse_key() const;
  bool same(const Entry& a, const Entry& b) const;

  LayerOptions options_;
  std::map<std::string, Entry> entries_;  // normalized absolute path -> entry
  bool finished_ = false;
};

// Normalizes an image path ("/a//./b/" -> "/a/b"); throws dslim::Error naming
// it when it is empty, relative or has a ".." component.
std::string clean_image_path(const std::string& path);

}  // namespace dslim
