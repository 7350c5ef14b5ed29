// Tests for src/rootfs/accounts.cpp: passwd and group files as the C
// library reads them, and an image's User turned into ids.
#include <catch2/catch.hpp>

#include "dslim/accounts.hpp"
#include "dslim/error.hpp"

using namespace dslim;
using namespace dslim::rootfs;

namespace {

MemRootFs accounts_root() {
  MemRootFs fs;
  fs.add_file("/etc/passwd",
              "root:x:0:0:root:/root:/bin/bash\n"
              "# a comment\n"
              "+nis::::::\n"
              "broken:x:notanumber:1:::\n"
              "short:x:5\n"
              "www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n"
              "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
              "app:x:1000:50::/home/app:/bin/sh");  // no final newline
  fs.add_file("/etc/group", "root:x:0:\nstaff:x:50:app\nwww-data:x:33:\nnogroup:x:65534:\n");
  return fs;
}

}  // namespace

TEST_CASE("parse_accounts keeps well-formed lines and skips the rest", "[rootfs]") {
  const auto fs = accounts_root();
  const auto users = read_accounts(fs, "/etc/passwd");
  REQUIRE(users.size() == 4);
  CHECK(users[0].name == "root");
  CHECK(users[1].name == "www-data");
  CHECK(users[1].id == 33);
  CHECK(users[1].group == 33);
  CHECK(users[3].line == "app:x:1000:50::/home/app:/bin/sh");
  const auto groups = read_accounts(fs, "/etc/group");
  REQUIRE(groups.size() == 4);
  CHECK(groups[1].name == "staff");
  CHECK(groups[1].id == 50);
  CHECK(read_accounts(fs, "/etc/shadow").empty());
  CHECK(parse_accounts("a:x:99999999999:1:::\n", true).empty());  // past 32 bits
}

TEST_CASE("find_account takes a name first, then an id", "[rootfs]") {
  const auto users = read_accounts(accounts_root(), "/etc/passwd");
  CHECK(find_account(users, "nobody")->id == 65534);
  CHECK(find_account(users, "33")->name == "www-data");
  CHECK_FALSE(find_account(users, "ghost"));
  CHECK_FALSE(find_account(users, "4242"));
  const auto numbered = parse_accounts("1000:x:7:7:::\nseven:x:1000:7:::\n", true);
  CHECK(find_account(numbered, "1000")->name == "1000");
}

TEST_CASE("user_ids: numbers, names, user:group", "[rootfs]") {
  const auto fs = accounts_root();
  auto ids = [&](const std::string& user) {
    const auto u = user_ids(fs, user, "User " + user);
    return std::pair(u.uid, u.gid);
  };
  CHECK(ids("") == std::pair(0u, 0u));
  CHECK(ids("nobody") == std::pair(65534u, 65534u));
  CHECK(ids("app") == std::pair(1000u, 50u));  // the passwd line's group
  CHECK(ids("app:www-data") == std::pair(1000u, 33u));
  CHECK(ids("33") == std::pair(33u, 33u));  // a uid with a line takes its group
  CHECK(ids("4242") == std::pair(4242u, 4242u));
  CHECK(ids("4242:7") == std::pair(4242u, 7u));
  CHECK_THROWS_WITH(user_ids(fs, "ghost", "User ghost"), Catch::Contains("User ghost") &&
                                                             Catch::Contains("no user ghost") &&
                                                             Catch::Contains("memory"));
  CHECK_THROWS_WITH(user_ids(fs, "app:nogrp", "User app:nogrp"), Catch::Contains("no group nogrp"));
  CHECK_THROWS_WITH(user_ids(MemRootFs(), "app", "User app"), Catch::Contains("no user app"));
}
