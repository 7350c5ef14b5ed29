#pragma once
// /etc/passwd and /etc/group as the C library reads them: one account per
// line, `name:password:id:...`. Shared by the passwd preset (the source's
// system accounts), the probe (--user by name) and `dslim image` (the lines
// its User needs).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dslim/rootfs.hpp"

namespace dslim::rootfs {

struct Account {
  std::string name;
  uint32_t id = 0;     // passwd: the uid; group: the gid
  uint32_t group = 0;  // passwd: the primary gid; group: 0
  std::string line;    // as the file has it, without the newline
};

// The well-formed lines of a passwd or group file, in order; the others
// (comments, NIS "+" lines, ids that are not numbers) are skipped, as glibc's
// files backend skips them.
std::vector<Account> parse_accounts(std::string_view text, bool passwd);

// The accounts of `file` ("/etc/passwd" or "/etc/group") in `fs`; none when absent.
std::vector<Account> read_accounts(const RootFs& fs, const std::string& file);

// The account named `key`, or with that id when `key` is all digits (a name
// first, as getpwnam would be asked before the number is taken as an id).
std::optional<Account> find_account(const std::vector<Account>& accounts, const std::string& key);

// "65532", "nonroot", "1000:1000", "app:staff" (an image's User, --user):
// numbers as they are, names looked up in `fs`'s /etc/passwd and /etc/group;
// a user without a group takes its passwd line's, else its uid. Throws
// dslim::Error naming `what` (e.g. "--user nobody") for a name `fs` lacks.
struct UserIds {
  uint32_t uid = 0, gid = 0;
};
UserIds user_ids(const RootFs& fs, const std::string& user, const std::string& what);

}  // namespace dslim::rootfs
