// glibc's gconv configuration, read as glibc reads it:
//  - names: iconv/gconv_charset.c (gconv_parse_code) and gconv_charset.h (strip);
//  - text files: iconv/gconv_parseconfdir.h (read_conf_file, the .d directory)
//    and gconv_conf.c (add_alias, add_module, insert_module, the builtins
//    added after the files), builtins from gconv_builtin.h;
//  - which modules a conversion loads: gconv_db.c (__gconv_find_transform,
//    find_derivation: the cheapest path over the module graph, starting at the
//    name and its one alias);
//  - gconv-modules.cache: iconvconfig.h (layout), gconv_cache.c
//    (__gconv_load_cache's checks, find_module_idx, __gconv_lookup_cache),
//    intl/hash-string.c (the hash).
#include "dslim/gconv.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "dslim/error.hpp"

namespace dslim::resolve {
namespace {

// Bounds no real configuration comes near (Debian 12: 58 KB of text in two
// files, ~1,400 alias and module lines; a 27 KB cache). glibc has none.
constexpr uint64_t kMaxFileBytes = 16ull << 20;
constexpr uint64_t kMaxTotalBytes = 32ull << 20;
constexpr uint64_t kMaxEntries = 200'000;
constexpr size_t kMaxConfFiles = 10'000;

// The C locale's classes (glibc parses with _nl_C_locobj_ptr).
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// For the line scanner: what ends a line's text (a NUL ends the C string
// glibc sees, '#' starts a comment), white space, anything else.
enum : uint8_t { kWord = 0, kSpace = 1, kEnd = 2 };
constexpr std::array<uint8_t, 256> kClass = [] {
  std::array<uint8_t, 256> t{};
  for (char c : {' ', '\t', '\n', '\v', '\f', '\r'}) t[static_cast<unsigned char>(c)] = kSpace;
  t[0] = kEnd;
  t['#'] = kEnd;
  return t;
}();
uint8_t char_class(char c) {
  return kClass[static_cast<unsigned char>(c)];
}
bool is_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}
char to_upper(char c) {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}

// gconv_builtin.h for a little-endian target (x86-64, aarch64, ...). A
// big-endian glibc swaps the roles of UNICODEBIG and UNICODELITTLE; every one
// of these names is builtin either way, so only which name is canonical differs.
struct BuiltinAlias {
  const char* from;
  const char* to;
};
constexpr BuiltinAlias kBuiltinAliases[] = {
    {"UCS4//", "ISO-10646/UCS4/"},
    {"UCS-4//", "ISO-10646/UCS4/"},
    {"UCS-4BE//", "ISO-10646/UCS4/"},
    {"CSUCS4//", "ISO-10646/UCS4/"},
    {"ISO-10646//", "ISO-10646/UCS4/"},
    {"10646-1:1993//", "ISO-10646/UCS4/"},
    {"10646-1:1993/UCS4/", "ISO-10646/UCS4/"},
    {"OSF00010104//", "ISO-10646/UCS4/"},
    {"OSF00010105//", "ISO-10646/UCS4/"},
    {"OSF00010106//", "ISO-10646/UCS4/"},
    {"WCHAR_T//", "INTERNAL"},
    {"UTF8//", "ISO-10646/UTF8/"},
    {"UTF-8//", "ISO-10646/UTF8/"},
    {"ISO-IR-193//", "ISO-10646/UTF8/"},
    {"OSF05010001//", "ISO-10646/UTF8/"},
    {"ISO-10646/UTF-8/", "ISO-10646/UTF8/"},
    {"UCS2//", "ISO-10646/UCS2/"},
    {"UCS-2//", "ISO-10646/UCS2/"},
    {"OSF00010100//", "ISO-10646/UCS2/"},
    {"OSF00010101//", "ISO-10646/UCS2/"},
    {"OSF00010102//", "ISO-10646/UCS2/"},
    {"ANSI_X3.4//", "ANSI_X3.4-1968//"},
    {"ISO-IR-6//", "ANSI_X3.4-1968//"},
    {"ANSI_X3.4-1986//", "ANSI_X3.4-1968//"},
    {"ISO_646.IRV:1991//", "ANSI_X3.4-1968//"},
    {"ASCII//", "ANSI_X3.4-1968//"},
    {"ISO646-US//", "ANSI_X3.4-1968//"},
    {"US-ASCII//", "ANSI_X3.4-1968//"},
    {"US//", "ANSI_X3.4-1968//"},
    {"IBM367//", "ANSI_X3.4-1968//"},
    {"CP367//", "ANSI_X3.4-1968//"},
    {"CSASCII//", "ANSI_X3.4-1968//"},
    {"OSF00010020//", "ANSI_X3.4-1968//"},
    {"UNICODELITTLE//", "ISO-10646/UCS2/"},
    {"UCS-2LE//", "ISO-10646/UCS2/"},
    {"UCS-2BE//", "UNICODEBIG//"},
};
// The charsets libc converts itself, each to and from INTERNAL at cost 1.
constexpr const char* kBuiltinCharsets[] = {
    "ISO-10646/UCS4/", "UCS-4LE//",        "ISO-10646/UTF8/",
    "ISO-10646/UCS2/", "ANSI_X3.4-1968//", "UNICODEBIG//",
};
constexpr const char kInternal[] = "INTERNAL";

// ---------------------------------------------------------------------------
// Text configuration: gconv_conf.c's databases, then the module graph.

struct Cost {
  int64_t hi = 0;
  int64_t lo = 0;
  friend auto operator<=>(const Cost&, const Cost&) = default;
};

// A hash of 8 bytes a step (byte-wise FNV spent a fifth of the time of
// reading a configuration on its multiply chain).
uint64_t name_hash(std::string_view s) {
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ull;
  uint64_t h = s.size() * kMul;
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = (h ^ w) * kMul;
    h ^= h >> 29;
  }
  uint64_t w = 0;
  if (s.size() >= 8) {
    std::memcpy(&w, s.data() + s.size() - 8, 8);  // the last 8, overlapping
  } else {
    for (; i < s.size(); ++i) w = w << 8 | static_cast<unsigned char>(s[i]);
  }
  h = (h ^ w) * kMul;
  return h ^ (h >> 32);
}

// Lets string-keyed maps be searched with a string_view.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return name_hash(s); }
};

// Names by id: their bytes in chunks that never move, found through an
// open-addressing table. A real configuration has ~1,400 names; one
// allocation per name was most of the time of reading it.
class NameTable {
 public:
  int find(std::string_view name) const { return find(name, name_hash(name)); }
  // The id of `name`, added if new.
  int insert(std::string_view name) {
    const uint64_t h = name_hash(name);
    if (int id = find(name, h); id >= 0) return id;
    if ((names_.size() + 1) * 2 > slots_.size()) grow();
    const int id = static_cast<int>(names_.size());
    names_.push_back(store(name));
    hashes_.push_back(h);
    place(id);
    return id;
  }
  std::string_view name(int id) const { return names_[id]; }
  size_t size() const { return names_.size(); }

 private:
  int find(std::string_view name, uint64_t h) const {
    if (slots_.empty()) return -1;
    const size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      const int id = slots_[i];
      if (id < 0) return -1;
      if (hashes_[id] == h && names_[id] == name) return id;
    }
  }
  void place(int id) {
    const size_t mask = slots_.size() - 1;
    size_t i = hashes_[id] & mask;
    while (slots_[i] >= 0) i = (i + 1) & mask;
    slots_[i] = id;
  }
  void grow() {
    slots_.assign(std::max<size_t>(4096, slots_.size() * 2), -1);
    for (size_t id = 0; id < names_.size(); ++id) place(static_cast<int>(id));
  }
  std::string_view store(std::string_view name) {
    constexpr size_t kChunk = 16 << 10;
    char* at;
    if (name.size() > kChunk / 4) {  // a long (hostile) name: a block of its own
      chunks_.push_back(std::make_unique<char[]>(name.size()));
      at = chunks_.back().get();
    } else {
      if (current_ == nullptr || used_ + name.size() > kChunk) {
        chunks_.push_back(std::make_unique<char[]>(kChunk));
        current_ = chunks_.back().get();
        used_ = 0;
      }
      at = current_ + used_;
      used_ += name.size();
    }
    std::memcpy(at, name.data(), name.size());
    return {at, name.size()};
  }

  std::vector<std::unique_ptr<char[]>> chunks_;
  char* current_ = nullptr;
  size_t used_ = 0;
  std::vector<std::string_view> names_;
  std::vector<uint64_t> hashes_;
  std::vector<int> slots_;
};

}  // namespace

struct GconvConfig::Impl {
  // The root, where module files are looked up (it outlives the config).
  const rootfs::RootFs* fs = nullptr;
  // The module files the text names, by id (the graph's edges refer to them).
  std::vector<std::string> paths;

  struct Text {
    NameTable names;             // every name the files mention, upper-cased
    std::vector<int> alias_of;   // glibc's alias db: id -> id, or -1
    std::vector<char> in_graph;  // a charset some kept module converts
    struct Edge {
      int to;
      Cost cost;
      int module;  // into paths; -1 for a builtin transformation
    };
    std::vector<uint32_t> first_edge;  // by id; edges of n: [first_edge[n], first_edge[n + 1])
    std::vector<Edge> edges;

    int id(std::string_view name) const { return names.find(name); }
    // The nodes find_derivation starts from (or ends at) for a name: the
    // name and the one alias do_lookup_alias gives it. Empty when glibc knows
    // neither.
    std::vector<int> ends(std::string_view name) const {
      std::vector<int> out;
      const int n = id(name);
      if (n < 0) return out;
      if (in_graph[n]) out.push_back(n);
      if (int a = alias_of[n]; a >= 0 && a != n && in_graph[a]) out.push_back(a);
      return out;
    }
    std::string canonical(std::string_view name) const {
      const int n = id(name);
      return std::string(n >= 0 && alias_of[n] >= 0 ? names.name(alias_of[n]) : name);
    }
  };
  std::optional<Text> text;

  // gconv-modules.cache, as __gconv_lookup_cache reads it.
  class Cache {
   public:
    struct Entry {
      uint16_t canonname = 0, fromdir = 0, fromname = 0, todir = 0, toname = 0, extra = 0;
    };

    // nullopt when __gconv_load_cache would not take the file.
    static std::optional<Cache> parse(std::shared_ptr<const rootfs::FileView> view,
                                      std::string_view bytes) {
      Cache c;
      c.view_ = std::move(view);
      c.bytes_ = bytes;
      if (c.bytes_.size() < 16) return std::nullopt;  // sizeof (struct gconvcache_header)
      uint32_t magic;
      std::memcpy(&magic, c.bytes_.data(), 4);
      if (magic == kMagic) {
        c.swap_ = false;
      } else if (__builtin_bswap32(magic) == kMagic) {
        c.swap_ = true;  // a cache of an image of the other byte order
      } else {
        return std::nullopt;
      }
      c.string_offset_ = c.u16(4);
      c.hash_offset_ = c.u16(6);
      c.hash_size_ = c.u16(8);
      c.module_offset_ = c.u16(10);
      c.otherconv_offset_ = c.u16(12);
      const size_t size = c.bytes_.size();
      if (c.string_offset_ >= size || c.hash_offset_ >= size || c.hash_size_ == 0 ||
          c.hash_offset_ + size_t{c.hash_size_} * 4 > size || c.module_offset_ >= size ||
          c.otherconv_offset_ > size) {
        return std::nullopt;
      }
      return c;
    }

    // find_module_idx: the module index of a name (canonical or alias).
    std::optional<uint16_t> find(const std::string& name) const {
      const uint32_t hval = hash(name);
      // As glibc computes it, in unsigned int; a table of 2 would divide by
      // zero there.
      const uint32_t step_mod = static_cast<uint32_t>(int{hash_size_} - 2);
      if (step_mod == 0) return std::nullopt;
      uint32_t idx = hval % hash_size_;
      const uint32_t step = 1 + hval % step_mod;
      const size_t limit = bytes_.size() - string_offset_;
      // glibc probes until an empty slot; a full table without the name
      // would make it loop forever.
      for (uint32_t probes = 0; probes < hash_size_; ++probes) {
        const size_t slot = hash_offset_ + size_t{idx} * 4;
        const uint16_t str = u16(slot);
        if (str == 0) return std::nullopt;
        if (str < limit && string(str) == name) {
          const uint16_t module = u16(slot + 2);
          // __gconv_lookup_cache's bound on the module table.
          if (module_offset_ + (size_t{module} + 1) * 12 > bytes_.size()) return std::nullopt;
          return module;
        }
        idx += step;
        if (idx >= hash_size_) idx -= hash_size_;
        if (idx >= hash_size_) return std::nullopt;  // glibc would read past the table
      }
      return std::nullopt;
    }

    Entry entry(uint16_t idx) const {
      const size_t at = module_offset_ + size_t{idx} * 12;
      return {u16(at), u16(at + 2), u16(at + 4), u16(at + 6), u16(at + 8), u16(at + 10)};
    }
    // Entries the module table can hold (it ends where the extra table starts).
    size_t entries() const {
      const size_t end = otherconv_offset_ > module_offset_ ? otherconv_offset_ : bytes_.size();
      return (end - module_offset_) / 12;
    }
    // A string of the string table; empty when it runs off the file.
    std::string_view string(uint16_t offset) const {
      const size_t at = size_t{string_offset_} + offset;
      if (at >= bytes_.size()) return {};
      const char* begin = bytes_.data() + at;
      const void* nul = std::memchr(begin, '\0', bytes_.size() - at);
      if (!nul) return {};
      return {begin, static_cast<size_t>(static_cast<const char*>(nul) - begin)};
    }
    // The module file at dir + name; nullopt for a builtin (empty dir).
    std::optional<std::string> file(uint16_t dir, uint16_t name) const {
      std::string_view d = string(dir);
      if (d.empty()) return std::nullopt;
      return rootfs::normalize(std::string(d) + std::string(string(name)));
    }

    // The extra-table steps from `from` straight to `to` (not through
    // INTERNAL): each step's (dir, name) offsets; empty if none.
    std::vector<std::pair<uint16_t, uint16_t>> extra(const Entry& from, uint16_t to) const {
      std::vector<std::pair<uint16_t, uint16_t>> steps;
      if (from.extra == 0) return steps;
      size_t at = size_t{otherconv_offset_} + from.extra - 1;
      for (int lists = 0; lists < kMaxExtraLists && at + 2 <= bytes_.size(); ++lists) {
        const uint16_t count = u16(at);
        if (count == 0) break;
        const size_t next = at + 2 + size_t{count} * 6;
        if (next > bytes_.size()) break;  // glibc would read past the file
        if (u16(at + 2 + (size_t{count} - 1) * 6) == to) {
          for (uint16_t i = 0; i < count; ++i) {
            const size_t m = at + 2 + size_t{i} * 6;
            steps.emplace_back(u16(m + 2), u16(m + 4));
          }
          break;
        }
        at = next;
      }
      return steps;
    }

    // Every extra-table step of an entry, whatever its target.
    std::vector<std::pair<uint16_t, uint16_t>> all_extra(const Entry& from) const {
      std::vector<std::pair<uint16_t, uint16_t>> steps;
      if (from.extra == 0) return steps;
      size_t at = size_t{otherconv_offset_} + from.extra - 1;
      for (int lists = 0; lists < kMaxExtraLists && at + 2 <= bytes_.size(); ++lists) {
        const uint16_t count = u16(at);
        const size_t next = at + 2 + size_t{count} * 6;
        if (count == 0 || next > bytes_.size()) break;
        for (uint16_t i = 0; i < count; ++i) {
          const size_t m = at + 2 + size_t{i} * 6;
          steps.emplace_back(u16(m + 2), u16(m + 4));
        }
        at = next;
      }
      return steps;
    }

   private:
    static constexpr uint32_t kMagic = 0x20010324;
    // Conversions one charset's extra list is walked through (iconvconfig
    // writes one per module not from or to INTERNAL, a handful at most; glibc
    // walks to a zero count however far that is).
    static constexpr int kMaxExtraLists = 256;

    // intl/hash-string.c; the bits above 31 that an LP64 unsigned long keeps
    // never reach the low 32 bits, which are all glibc keeps.
    static uint32_t hash(std::string_view s) {
      uint32_t hval = 0;
      for (char ch : s) {
        hval = (hval << 4) + static_cast<unsigned char>(ch);
        const uint32_t g = hval & (0xfu << 28);
        if (g != 0) {
          hval ^= g >> 24;
          hval ^= g;
        }
      }
      return hval;
    }
    uint16_t u16(size_t at) const {
      if (at + 2 > bytes_.size()) return 0;
      uint16_t v;
      std::memcpy(&v, bytes_.data() + at, 2);
      return swap_ ? __builtin_bswap16(v) : v;
    }

    std::shared_ptr<const rootfs::FileView> view_;  // holds bytes_
    std::string_view bytes_;
    bool swap_ = false;
    uint16_t string_offset_ = 0, hash_offset_ = 0, hash_size_ = 0, module_offset_ = 0,
             otherconv_offset_ = 0;
  };
  std::optional<Cache> cache;
};

namespace {

using Impl = GconvConfig::Impl;

// ---------------------------------------------------------------------------
// Reading files through the root.

struct ConfigFile {
  std::string path;  // in-root, as glibc opens it
  std::unique_ptr<rootfs::FileView> view;
  std::span<const char> text;
};

// A regular file (symlinks followed, as fopen does), or nullopt: glibc
// ignores a configuration file it cannot open.
std::optional<ConfigFile> open_config(const rootfs::RootFs& fs, const std::string& path,
                                      uint64_t& total) {
  std::optional<rootfs::Resolved> where;
  try {
    where = rootfs::resolve(fs, path);
  } catch (const Error&) {
    return std::nullopt;  // a symlink loop: fopen fails with ELOOP
  }
  if (!where || where->stat.type != rootfs::FileType::Regular) return std::nullopt;
  if (where->stat.size > kMaxFileBytes) {
    throw Error(path + " in " + fs.describe() + ": " + std::to_string(where->stat.size) +
                " bytes, more than the " + std::to_string(kMaxFileBytes >> 20) +
                " MiB allowed for a gconv configuration file");
  }
  total += where->stat.size;
  if (total > kMaxTotalBytes) {
    throw Error(path + " in " + fs.describe() +
                ": the gconv configuration files come to more than " +
                std::to_string(kMaxTotalBytes >> 20) + " MiB");
  }
  ConfigFile file;
  file.path = path;
  file.view = fs.open(where->path);
  auto bytes = file.view->bytes();
  file.text = {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
  return file;
}

// ---------------------------------------------------------------------------
// gconv_conf.c's parser. Names are interned once (a real configuration has
// ~1,400 of them, ~1,000 of them aliases), the rest are ids.

class TextParser {
 public:
  TextParser(Impl& impl, std::string dir, const rootfs::RootFs& fs)
      : impl_(impl), dir_(std::move(dir)), fs_(fs) {
    t_.alias_of.reserve(2048);
    module_from_.reserve(2048);
    modules_.reserve(1024);
  }

  void read(const ConfigFile& file) {
    const char* p = file.text.data();
    const char* const end = p + file.text.size();
    uint64_t line_no = 0;
    while (p < end) {
      ++line_no;
      const char* eol = static_cast<const char*>(std::memchr(p, '\n', end - p));
      if (eol == nullptr) eol = end;
      // The line is a C string: a NUL ends it, and a '#' starts a comment.
      const char* stop = p;
      while (stop < eol && char_class(*stop) != kEnd) ++stop;
      std::string_view line(p, stop - p);
      p = eol + 1;
      size_t at = 0;
      std::string_view keyword = word(line, at);
      const bool alias = keyword == "alias";
      const bool module = keyword == "module";
      if (!alias && !module) continue;  // anything else, blank lines and comments are ignored
      if (++entries_ > kMaxEntries) {
        throw Error(file.path + ":" + std::to_string(line_no) + " in " + fs_.describe() +
                    ": more than " + std::to_string(kMaxEntries) +
                    " alias and module lines in the gconv configuration");
      }
      if (alias) {
        add_alias(line, at);
      } else {
        add_module(line, at, modcounter_++);  // counted even when the line is skipped
      }
    }
  }

  // __gconv_read_conf after the files: the builtin transformations (unless an
  // alias took their name), then the builtin aliases (unless taken).
  void add_builtins() {
    const int internal = intern(kInternal);
    const Cost builtin{1, std::numeric_limits<int>::max()};
    for (const char* charset : kBuiltinCharsets) {
      const int c = intern(charset);
      if (t_.alias_of[internal] < 0) insert_module(internal, c, -1, builtin);
      if (t_.alias_of[c] < 0) insert_module(c, internal, -1, builtin);
    }
    for (const auto& a : kBuiltinAliases) add_alias2(intern(a.from), intern(a.to));
  }

  Impl::Text finish() {
    std::sort(modules_.begin(), modules_.end(), [](const Module& a, const Module& b) {
      return std::tie(a.from, a.to, a.cost) < std::tie(b.from, b.to, b.cost);
    });
    modules_.erase(std::unique(modules_.begin(), modules_.end(),
                               [](const Module& a, const Module& b) {
                                 return a.from == b.from && a.to == b.to;
                               }),
                   modules_.end());
    const size_t n = t_.names.size();
    t_.in_graph.assign(n, 0);
    t_.first_edge.assign(n + 1, 0);
    for (const auto& m : modules_) ++t_.first_edge[m.from + 1];
    for (size_t i = 0; i < n; ++i) t_.first_edge[i + 1] += t_.first_edge[i];
    t_.edges.resize(modules_.size());
    std::vector<uint32_t> next(t_.first_edge.begin(), t_.first_edge.end() - 1);
    for (const auto& m : modules_) {
      t_.edges[next[m.from]++] = {m.to, m.cost, m.module};
      t_.in_graph[m.from] = t_.in_graph[m.to] = 1;
    }
    impl_.paths = std::move(paths_);
    return std::move(t_);
  }

 private:
  struct Module {
    int from, to;
    int module;  // into paths_, -1 builtin
    Cost cost;
  };

  // The next word of a line cut at its end (no NUL or '#' in it).
  static std::string_view word(std::string_view line, size_t& at) {
    while (at < line.size() && char_class(line[at]) == kSpace) ++at;
    const size_t start = at;
    while (at < line.size() && char_class(line[at]) != kSpace) ++at;
    return line.substr(start, at - start);
  }

  // The id of a name, upper-cased as glibc stores it.
  int intern_upper(std::string_view name) {
    upper_.assign(name);
    for (char& c : upper_) c = to_upper(c);
    return intern(upper_);
  }
  int intern(std::string_view name) {
    const int id = t_.names.insert(name);
    if (static_cast<size_t>(id) == t_.alias_of.size()) {
      t_.alias_of.push_back(-1);
      module_from_.push_back(0);
    }
    return id;
  }

  // add_alias: two words, both upper-cased; anything after them is ignored.
  void add_alias(std::string_view line, size_t at) {
    std::string_view from = word(line, at);
    std::string_view to = word(line, at);
    if (from.empty() || to.empty()) return;
    const int f = intern_upper(from);
    add_alias2(f, intern_upper(to));
  }

  // add_alias2: not over a module's name, and the first alias of a name wins.
  void add_alias2(int from, int to) {
    if (module_from_[from] || t_.alias_of[from] >= 0) return;
    t_.alias_of[from] = to;
  }

  // add_module: FROM TO FILE [COST]; FROM and TO upper-cased, FILE relative to
  // the gconv directory unless absolute, ".so" added unless it ends so.
  void add_module(std::string_view line, size_t at, int64_t counter) {
    std::string_view from = word(line, at);
    std::string_view to = word(line, at);
    std::string_view file = word(line, at);
    if (from.empty() || to.empty() || file.empty()) return;
    const Cost cost{parse_cost(line.substr(at)), counter};
    const int f = intern_upper(from);
    if (t_.alias_of[f] >= 0) return;  // "This module duplicates an alias."
    insert_module(f, intern_upper(to), module_id(file), cost);
  }

  // strtol (base 10, leading space, sign, saturating), truncated to glibc's
  // int; no number or one below 1 means 1.
  static int64_t parse_cost(std::string_view rest) {
    size_t i = 0;
    while (i < rest.size() && is_space(rest[i])) ++i;
    bool negative = false;
    if (i < rest.size() && (rest[i] == '+' || rest[i] == '-')) negative = rest[i++] == '-';
    if (i >= rest.size() || rest[i] < '0' || rest[i] > '9') return 1;
    uint64_t v = 0;
    bool overflow = false;
    for (; i < rest.size() && rest[i] >= '0' && rest[i] <= '9'; ++i) {
      const uint64_t digit = static_cast<uint64_t>(rest[i] - '0');
      if (v > (uint64_t{1} << 63) / 10 || v * 10 > (uint64_t{1} << 63) - digit) overflow = true;
      if (!overflow) v = v * 10 + digit;
    }
    int64_t l;
    if (overflow || (!negative && v > static_cast<uint64_t>(INT64_MAX))) {
      l = negative ? INT64_MIN : INT64_MAX;
    } else {
      l = negative ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
    }
    const auto cost = static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(l)));
    return cost < 1 ? 1 : cost;
  }

  int module_id(std::string_view file) {
    if (auto it = file_ids_.find(file); it != file_ids_.end()) return it->second;
    std::string path = file.front() == '/' ? std::string(file) : dir_ + "/" + std::string(file);
    if (!path.ends_with(".so")) path += ".so";
    // dir_ is normal already; only a name with a '/' or a dot part needs more.
    if (file.front() == '/' || file.find('/') != std::string_view::npos || file.front() == '.') {
      path = rootfs::normalize(path);
    }
    const int id = static_cast<int>(paths_.size());
    paths_.push_back(std::move(path));
    file_ids_.emplace(std::string(file), id);
    return id;
  }

  // insert_module keeps one module per (FROM, TO), the cheaper (cost, then
  // line order: no two cost the same); finish() picks it.
  void insert_module(int from, int to, int module, Cost cost) {
    module_from_[from] = 1;
    modules_.push_back({from, to, module, cost});
  }

  Impl& impl_;
  std::string dir_;
  const rootfs::RootFs& fs_;
  Impl::Text t_;
  std::string upper_;              // scratch
  std::vector<char> module_from_;  // by id: some module converts from it
  std::vector<Module> modules_;
  std::unordered_map<std::string, int, StringHash, std::equal_to<>> file_ids_;  // as written
  std::vector<std::string> paths_;  // in-root module paths, by file id
  uint64_t entries_ = 0;
  int64_t modcounter_ = 0;
};

// ---------------------------------------------------------------------------
// find_derivation: the cheapest path (cost, then line order) from the start
// nodes, as Dijkstra, stopped once every goal is settled. The buffers are
// kept from one search to the next and only what a search touched is reset.
// Costs are summed in 64 bits where glibc sums ints: its builtin steps cost
// INT_MAX in the low part, so where two paths tie on the high part and one
// takes a builtin step, glibc's overflowed sum may break the tie the other
// way. A module to "-" (any charset, from glibc's regular-expression days)
// is not followed.
class PathFinder {
 public:
  explicit PathFinder(const Impl::Text& t)
      : t_(t),
        dist_(t.names.size()),
        via_node_(t.names.size(), -1),
        via_module_(t.names.size(), -1),
        state_(t.names.size(), 0) {}

  void search(const std::vector<int>& starts, const std::vector<int>& goals) {
    for (int v : touched_) {
      via_node_[v] = via_module_[v] = -1;
      state_[v] = 0;
    }
    touched_.clear();
    heap_.clear();
    size_t goals_left = 0;
    for (int g : goals) {
      if (!(state_[g] & kGoal)) ++goals_left;
      state_[g] |= kGoal;
      touched_.push_back(g);
    }
    auto reach = [&](int v, Cost c) {
      if (!(state_[v] & kReached)) touched_.push_back(v);
      state_[v] |= kReached;
      dist_[v] = c;
      heap_.push_back({c, v});
      std::push_heap(heap_.begin(), heap_.end(), std::greater<>());
    };
    for (int s : starts) reach(s, Cost{});
    while (!heap_.empty() && goals_left > 0) {
      std::pop_heap(heap_.begin(), heap_.end(), std::greater<>());
      auto [cost, u] = heap_.back();
      heap_.pop_back();
      if (state_[u] & kDone) continue;
      state_[u] |= kDone;
      if (state_[u] & kGoal) --goals_left;
      for (uint32_t i = t_.first_edge[u]; i < t_.first_edge[u + 1]; ++i) {
        const auto& e = t_.edges[i];
        const Cost c{cost.hi + e.cost.hi, cost.lo + e.cost.lo};
        if (state_[e.to] & kDone) continue;  // settled (a start node: cost 0)
        if (!(state_[e.to] & kReached) || c < dist_[e.to]) {
          via_node_[e.to] = u;
          via_module_[e.to] = e.module;
          reach(e.to, c);
        }
      }
    }
  }
  bool reached(int v) const { return state_[v] & kDone; }
  const Cost& dist(int v) const { return dist_[v]; }
  int via_node(int v) const { return via_node_[v]; }
  int via_module(int v) const { return via_module_[v]; }

 private:
  enum : uint8_t { kReached = 1, kDone = 2, kGoal = 4 };
  const Impl::Text& t_;
  std::vector<Cost> dist_;
  std::vector<int> via_node_;  // predecessor on the cheapest path
  std::vector<int> via_module_;
  std::vector<uint8_t> state_;
  std::vector<int> touched_;
  std::vector<std::pair<Cost, int>> heap_;
};

// What a name asked for stands for in each database, and what its
// conversions load.
struct Asked {
  std::string charset;  // canonical, for the report
  std::vector<int> text_ends;
  std::optional<uint16_t> cache_idx;
  bool asked = false;           // false for the builtin charsets added as endpoints
  std::vector<int> text_files;  // into Impl::paths, repeats and all
  bool cache_to = false;        // the cache's X -> INTERNAL module is loaded
  bool cache_from = false;      // the cache's INTERNAL -> X module is loaded
  std::vector<std::pair<uint16_t, uint16_t>> cache_extra;  // (dir, name) of direct modules
};

// Drops repeats once there are many: a charset takes the same module from
// every other charset asked for.
template <typename T>
void compact(std::vector<T>& v) {
  if (v.size() < 64) return;
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

// A regular file at `path` in the root (symlinks followed), as dlopen needs.
bool exists(rootfs::PathResolver& resolver, const std::string& path) {
  try {
    auto r = resolver.resolve(path);
    return r && r->stat.type == rootfs::FileType::Regular;
  } catch (const Error&) {
    return false;  // a symlink loop
  }
}

}  // namespace

std::string gconv_charset_name(std::string_view name) {
  // It is a C string.
  if (size_t nul = name.find('\0'); nul != std::string_view::npos) name = name.substr(0, nul);
  // gconv_parse_code: drop trailing separators, then the last suffix (from
  // the last '/' or ',') of a name with two or more '/', again until none is
  // left. Only ever shortened from the end: one pass.
  size_t len = name.size();
  size_t slashes = static_cast<size_t>(std::count(name.begin(), name.end(), '/'));
  while (true) {
    while (len > 0 && (is_space(name[len - 1]) || name[len - 1] == ',' || name[len - 1] == '/')) {
      slashes -= name[--len] == '/';
    }
    if (len == 0 || slashes < 2) break;
    while (name[len - 1] != '/' && name[len - 1] != ',') --len;  // there is a '/'
    slashes -= name[--len] == '/';
  }
  const std::string_view code = name.substr(0, len);
  // strip(): keep [A-Za-z0-9_.,:-] upper-cased and at most two '/', then pad
  // to two '/'.
  std::string out;
  out.reserve(code.size() + 2);
  int kept = 0;  // '/' copied
  for (char c : code) {
    if (is_alnum(c) || c == '_' || c == '-' || c == '.' || c == ',' || c == ':') {
      out.push_back(to_upper(c));
    } else if (c == '/') {
      if (++kept == 3) break;
      out.push_back('/');
    }
  }
  while (kept++ < 2) out.push_back('/');
  return out;
}

std::vector<GconvConfig::Match> GconvConfig::modules_for(
    const std::vector<std::string>& names) const {
  const Impl& impl = *impl_;
  // Each distinct name once, then the builtin charsets as endpoints of the
  // conversions the program may ask for.
  std::vector<Asked> asked;
  std::map<std::string, size_t> by_charset;           // glibc's name -> index in asked
  std::vector<std::pair<std::string, size_t>> order;  // names as asked -> index
  std::set<std::string> seen_names;
  auto add = [&](const std::string& glibc_name, bool is_asked) -> std::optional<size_t> {
    if (auto it = by_charset.find(glibc_name); it != by_charset.end()) {
      asked[it->second].asked |= is_asked;
      return it->second;
    }
    Asked a;
    a.asked = is_asked;
    if (impl.text) {
      a.text_ends = impl.text->ends(glibc_name);
      if (!a.text_ends.empty()) a.charset = impl.text->canonical(glibc_name);
    }
    if (impl.cache) {
      a.cache_idx = impl.cache->find(glibc_name);
      if (a.cache_idx && a.charset.empty()) {
        a.charset = std::string(impl.cache->string(impl.cache->entry(*a.cache_idx).canonname));
      }
    }
    if (a.text_ends.empty() && !a.cache_idx) return std::nullopt;  // glibc knows it not
    asked.push_back(std::move(a));
    by_charset.emplace(glibc_name, asked.size() - 1);
    return asked.size() - 1;
  };
  for (const auto& name : names) {
    if (!seen_names.insert(name).second) continue;
    if (auto i = add(gconv_charset_name(name), true)) order.emplace_back(name, *i);
  }
  if (order.empty()) return {};
  add(kInternal, false);
  for (const char* charset : kBuiltinCharsets) add(charset, false);

  // Every conversion between two of them with one asked for, as glibc would
  // make it: the steps to INTERNAL go to the charset converted from, those
  // from INTERNAL to the one converted to, any other to both. Same-charset
  // pairs (an alias and its name) go through INTERNAL, which the pairs with
  // INTERNAL cover. Work is quadratic in the names glibc knows: all 1,139 of
  // Debian's in one call take ~80 ms here, one or ten well under 1 ms.
  if (impl.text) {
    const auto& t = *impl.text;
    const int internal = t.id(kInternal);
    PathFinder finder(t);
    std::vector<int> nodes, steps;
    auto same_charset = [&](size_t a, size_t b) {
      for (int g : asked[b].text_ends) {
        for (int s : asked[a].text_ends) {
          if (g == s) return true;
        }
      }
      return false;
    };
    for (size_t a = 0; a < asked.size(); ++a) {
      if (asked[a].text_ends.empty()) continue;
      std::vector<size_t> targets;
      std::vector<int> goals;
      for (size_t b = 0; b < asked.size(); ++b) {
        if (a == b || (!asked[a].asked && !asked[b].asked) || asked[b].text_ends.empty() ||
            same_charset(a, b)) {
          continue;
        }
        targets.push_back(b);
        goals.insert(goals.end(), asked[b].text_ends.begin(), asked[b].text_ends.end());
      }
      if (targets.empty()) continue;
      finder.search(asked[a].text_ends, goals);
      for (size_t b : targets) {
        int best = -1;
        for (int g : asked[b].text_ends) {
          if (finder.reached(g) && (best < 0 || finder.dist(g) < finder.dist(best))) best = g;
        }
        // The path's nodes start..goal and the module of each step. The
        // steps up to INTERNAL convert a to it, those after it convert it to
        // b; a path that does not pass INTERNAL is a's and b's alike.
        nodes.clear();
        steps.clear();
        for (int v = best; v >= 0; v = finder.via_node(v)) {
          nodes.push_back(v);
          if (finder.via_node(v) >= 0) steps.push_back(finder.via_module(v));
        }
        std::reverse(nodes.begin(), nodes.end());
        std::reverse(steps.begin(), steps.end());  // steps[i]: nodes[i] -> nodes[i + 1]
        const auto at = std::find(nodes.begin(), nodes.end(), internal);
        const size_t pivot = static_cast<size_t>(at - nodes.begin());
        for (size_t i = 0; i < steps.size(); ++i) {
          if (steps[i] < 0) continue;  // builtin
          if (at == nodes.end() || i < pivot) asked[a].text_files.push_back(steps[i]);
          if (at == nodes.end() || i >= pivot) asked[b].text_files.push_back(steps[i]);
        }
        compact(asked[b].text_files);
      }
      compact(asked[a].text_files);
    }
  }
  if (impl.cache) {
    // __gconv_lookup_cache for each pair: the extra table's direct modules
    // first (glibc falls back to INTERNAL only when one fails to load: both
    // are taken), then through INTERNAL, with glibc's own test of whether it
    // can (it checks the from-charset's INTERNAL -> X module and the
    // to-charset's X -> INTERNAL one).
    const auto& c = *impl.cache;
    std::vector<Impl::Cache::Entry> entries;
    for (const auto& x : asked)
      entries.push_back(x.cache_idx ? c.entry(*x.cache_idx) : Impl::Cache::Entry{});
    for (size_t a = 0; a < asked.size(); ++a) {
      if (!asked[a].cache_idx) continue;
      const uint16_t fi = *asked[a].cache_idx;
      const auto& fe = entries[a];
      for (size_t b = 0; b < asked.size(); ++b) {
        if (a == b || (!asked[a].asked && !asked[b].asked) || !asked[b].cache_idx) continue;
        const uint16_t ti = *asked[b].cache_idx;
        if (fi == ti) continue;
        const auto& te = entries[b];
        if (fi != 0 && ti != 0 && fe.extra != 0) {
          for (auto step : c.extra(fe, ti)) {
            asked[a].cache_extra.push_back(step);
            asked[b].cache_extra.push_back(step);
          }
          compact(asked[a].cache_extra);
          compact(asked[b].cache_extra);
        }
        if ((fi != 0 && fe.fromname == 0) || (ti != 0 && te.toname == 0) || (fi == 0 && ti == 0)) {
          continue;
        }
        if (fi != 0) asked[a].cache_to = true;
        if (ti != 0) asked[b].cache_from = true;
      }
    }
  }

  rootfs::PathResolver resolver(*impl.fs);
  std::unordered_map<std::string, bool> found;  // path -> exists
  std::vector<Match> out;
  for (const auto& [name, i] : order) {
    const Asked& x = asked[i];
    std::set<std::string> files;
    for (int id : x.text_files) files.insert(impl.paths[id]);
    if (impl.cache && x.cache_idx) {
      const auto& c = *impl.cache;
      const auto e = c.entry(*x.cache_idx);
      auto add = [&](std::optional<std::string> file) {
        if (file) files.insert(std::move(*file));  // else a builtin step
      };
      if (x.cache_to) add(c.file(e.todir, e.toname));
      if (x.cache_from) add(c.file(e.fromdir, e.fromname));
      for (auto [dir, file] : x.cache_extra) add(c.file(dir, file));
    }
    Match m;
    m.name = name;
    m.charset = x.charset;
    for (const auto& file : files) {  // sorted
      auto [it, inserted] = found.try_emplace(file, false);
      if (inserted) it->second = exists(resolver, file);
      (it->second ? m.modules : m.missing).push_back(file);
    }
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<std::string> GconvConfig::all_modules() const {
  const Impl& impl = *impl_;
  std::set<std::string> files;
  if (impl.text) {
    for (const auto& e : impl.text->edges) {  // the modules kept
      if (e.module >= 0) files.insert(impl.paths[e.module]);
    }
  }
  if (impl.cache) {
    const auto& c = *impl.cache;
    auto add = [&](std::optional<std::string> file) {
      if (file) files.insert(std::move(*file));
    };
    for (size_t i = 0; i < c.entries(); ++i) {
      const auto e = c.entry(static_cast<uint16_t>(i));
      add(c.file(e.fromdir, e.fromname));
      add(c.file(e.todir, e.toname));
      for (auto [dir, name] : c.all_extra(e)) add(c.file(dir, name));
    }
  }
  rootfs::PathResolver resolver(*impl.fs);
  std::vector<std::string> out;
  for (const auto& file : files) {
    if (exists(resolver, file)) out.push_back(file);
  }
  return out;
}

std::optional<GconvConfig> read_gconv_config(const rootfs::RootFs& fs,
                                             const std::string& libc_dir) {
  const std::string libdir = rootfs::normalize(libc_dir);
  std::vector<std::string> candidates;
  if (libdir != "/usr" && !libdir.starts_with("/usr/")) {
    candidates.push_back(rootfs::normalize("/usr" + libdir + "/gconv"));
  }
  candidates.push_back(rootfs::normalize(libdir + "/gconv"));

  for (const auto& dir : candidates) {
    std::optional<rootfs::Resolved> where;
    try {
      where = rootfs::resolve(fs, dir);
    } catch (const Error&) {
      continue;  // a symlink loop: glibc finds nothing there either
    }
    if (!where || where->stat.type != rootfs::FileType::Directory) continue;

    uint64_t total = 0;
    std::vector<ConfigFile> texts;
    if (auto f = open_config(fs, dir + "/gconv-modules", total)) texts.push_back(std::move(*f));
    // gconv_parseconfdir: gconv-modules.d/*.conf, a name longer than ".conf";
    // regular files and symlinks (to regular files: fopen of anything else
    // reads nothing).
    const std::string dot_d = dir + "/gconv-modules.d";
    std::optional<rootfs::Resolved> d;
    try {
      d = rootfs::resolve(fs, dot_d);
    } catch (const Error&) {
    }
    if (d && d->stat.type == rootfs::FileType::Directory) {
      std::vector<std::string> names = fs.list(d->path);  // sorted
      size_t confs = 0;
      for (const auto& name : names) {
        if (name.size() <= 5 || !name.ends_with(".conf")) continue;
        if (++confs > kMaxConfFiles) {
          throw Error(dot_d + " in " + fs.describe() + ": more than " +
                      std::to_string(kMaxConfFiles) + " .conf files");
        }
        if (auto f = open_config(fs, dot_d + "/" + name, total)) texts.push_back(std::move(*f));
      }
    }
    std::optional<ConfigFile> cache_file = open_config(fs, dir + "/gconv-modules.cache", total);
    if (texts.empty() && !cache_file) continue;

    auto impl = std::make_shared<Impl>();
    GconvConfig config;
    config.dir_ = dir;
    if (!texts.empty()) {
      TextParser parser(*impl, dir, fs);
      for (const auto& f : texts) {
        parser.read(f);
        config.files_.push_back(f.path);
      }
      parser.add_builtins();
      impl->text = parser.finish();
    }
    if (cache_file) {
      config.files_.push_back(cache_file->path);
      impl->cache =
          Impl::Cache::parse(std::move(cache_file->view),
                             std::string_view(cache_file->text.data(), cache_file->text.size()));
    }
    impl->fs = &fs;
    config.impl_ = std::move(impl);
    return config;
  }
  return std::nullopt;
}

}  // namespace dslim::resolve
