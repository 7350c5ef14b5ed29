#pragma once
// glibc's iconv module configuration inside an image root: which gconv
// modules (dlopen'ed by iconv_open at run time, never in DT_NEEDED) a program
// needs for the charsets it names, read the way glibc reads it
// (iconv/gconv_conf.c, gconv_parseconfdir.h, gconv_builtin.h, gconv_charset.c,
// gconv_db.c, gconv_cache.c, iconvconfig.c).
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dslim/rootfs.hpp"

namespace dslim::resolve {

// A charset name as iconv_open() hands it to the module database
// (gconv_charset.c): error-handler suffixes ("//TRANSLIT", "/IGNORE",
// ",TRANSLIT") dropped, only letters, digits and "_-.,:" kept, upper-cased in
// the C locale, '/' padded to two. "latin1" -> "LATIN1//", "utf-8//translit"
// -> "UTF-8//", "ISO-10646/UTF8" -> "ISO-10646/UTF8/".
std::string gconv_charset_name(std::string_view name);

class GconvConfig {
 public:
  struct Match {
    std::string name;     // as asked
    std::string charset;  // glibc's name for it, aliases followed: "latin1" -> "ISO-8859-1//"
    // In-root paths (sorted) of the module files glibc loads for this
    // charset's side of its conversions with INTERNAL, the charsets built into
    // libc (UTF-8, UCS-4, UCS-2, ASCII, WCHAR_T) and the other charsets asked
    // for in the same call: the steps between it and INTERNAL, and a module
    // converting straight between it and one of the others (EUC-CN and BIG5:
    // GBBIG5.so). Empty for a builtin charset. What the modules need in turn
    // (EUC-JP.so's DT_NEEDED libJIS.so) is the resolver's to find.
    std::vector<std::string> modules;
    // Module files those conversions take that the root does not have (the
    // conversion would fail there with EINVAL).
    std::vector<std::string> missing;
  };

  // The gconv directory, in-root, e.g. /usr/lib/x86_64-linux-gnu/gconv.
  const std::string& dir() const { return dir_; }
  // What an image needs for iconv to work there, those of them that exist
  // (in-root paths): gconv-modules, gconv-modules.d/*.conf, gconv-modules.cache.
  const std::vector<std::string>& files() const { return files_; }

  // One Match per name glibc knows (any case, "//" and error-handler suffixes
  // ignored, one alias followed as glibc does), in the order asked, each name
  // once; names glibc does not know are left out. With a valid
  // gconv-modules.cache glibc takes it instead of the text files (unless
  // GCONV_PATH is set): the modules are those either would load.
  std::vector<Match> modules_for(const std::vector<std::string>& names) const;

  // Every module file the configuration can load that exists, sorted (a
  // look-up in the root for each of them: ~250 on Debian).
  std::vector<std::string> all_modules() const;

  struct Impl;  // the parsed databases (gconv.cpp)

 private:
  GconvConfig() = default;
  friend std::optional<GconvConfig> read_gconv_config(const rootfs::RootFs& fs,
                                                      const std::string& libc_dir);
  std::string dir_;
  std::vector<std::string> files_;
  std::shared_ptr<const Impl> impl_;
};

// The gconv configuration of the glibc whose libc.so.6 sits in `libc_dir`
// (in-root, e.g. "/usr/lib/x86_64-linux-gnu"). glibc's compiled-in GCONV_PATH
// is <libdir>/gconv, with libdir under /usr even where libc.so.6 is in /lib
// (Debian before the /usr merge): /usr<libc_dir>/gconv is tried first for a
// libc_dir outside /usr, then <libc_dir>/gconv. The text files are
// gconv-modules, then gconv-modules.d/*.conf (in name order; glibc takes
// readdir order). A gconv-modules.cache is parsed too, and alone when there
// are no text files. nullopt when neither directory has any of them.
// Malformed lines are skipped as glibc skips them; throws dslim::Error (naming
// the file, and the line) only past bounds no real configuration comes near:
// a file over 16 MiB, 32 MiB of text in all, 200,000 alias and module lines,
// 10,000 files in gconv-modules.d. The result looks module files up in `fs`
// when asked (modules_for, all_modules): `fs` must outlive it.
std::optional<GconvConfig> read_gconv_config(const rootfs::RootFs& fs, const std::string& libc_dir);

}  // namespace dslim::resolve
