// passwd and group files: see accounts.hpp.
#include "dslim/accounts.hpp"

#include <charconv>

#include "dslim/error.hpp"

namespace dslim::rootfs {

namespace {

std::optional<uint32_t> number(std::string_view text) {
  uint32_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

bool all_digits(const std::string& text) {
  return !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
}

}  // namespace

std::vector<Account> parse_accounts(std::string_view text, bool passwd) {
  std::vector<Account> out;
  while (!text.empty()) {
    const size_t end = std::min(text.find('\n'), text.size());
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    std::vector<std::string_view> fields;
    for (size_t at = 0;;) {
      const size_t colon = line.find(':', at);
      fields.push_back(line.substr(at, colon - at));
      if (colon == std::string_view::npos) break;
      at = colon + 1;
    }
    if (fields.size() < (passwd ? 7u : 4u) || fields[0].empty() || fields[0].front() == '+' ||
        fields[0].front() == '-' || fields[0].front() == '#' ||
        line.find('\0') != std::string_view::npos)
      continue;
    const auto id = number(fields[2]);
    const auto group = passwd ? number(fields[3]) : std::optional<uint32_t>(0);
    if (!id || !group) continue;
    out.push_back({std::string(fields[0]), *id, *group, std::string(line)});
  }
  return out;
}

std::vector<Account> read_accounts(const RootFs& fs, const std::string& file) {
  const auto text = read_text(fs, file);
  return text ? parse_accounts(*text, file.ends_with("passwd")) : std::vector<Account>{};
}

std::optional<Account> find_account(const std::vector<Account>& accounts, const std::string& key) {
  for (const auto& a : accounts)
    if (a.name == key) return a;
  if (const auto id = all_digits(key) ? number(key) : std::nullopt) {
    for (const auto& a : accounts)
      if (a.id == *id) return a;
  }
  return std::nullopt;
}

UserIds user_ids(const RootFs& fs, const std::string& user, const std::string& what) {
  if (user.empty()) return {};
  const auto colon = user.find(':');
  const std::string name = user.substr(0, colon);
  const std::string group = colon == std::string::npos ? "" : user.substr(colon + 1);
  UserIds ids;
  std::optional<Account> account;
  if (all_digits(name) && number(name)) {
    ids.uid = *number(name);
    account = find_account(read_accounts(fs, "/etc/passwd"), name);
  } else {
    account = find_account(read_accounts(fs, "/etc/passwd"), name);
    if (!account)
      throw Error(what + ": no user " + name + " in /etc/passwd of " + fs.describe(),
                  ErrorKind::Input);
    ids.uid = account->id;
  }
  if (group.empty()) {
    ids.gid = account ? account->group : ids.uid;
  } else if (all_digits(group) && number(group)) {
    ids.gid = *number(group);
  } else {
    const auto g = find_account(read_accounts(fs, "/etc/group"), group);
    if (!g)
      throw Error(what + ": no group " + group + " in /etc/group of " + fs.describe(),
                  ErrorKind::Input);
    ids.gid = g->id;
  }
  return ids;
}

}  // namespace dslim::rootfs
