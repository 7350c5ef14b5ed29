#!/usr/bin/env bash
# The Debian package scripts/release makes (CPack, build/release/dslim_<version>_amd64.deb):
# it holds the static dslim, a man page generated from --help (help2man) and
# the README; `dpkg -i` installs it in a fresh copy of the bullseye test root
# (Debian 11, a glibc older than the one dslim was built on: the static
# binary needs none) and the installed dslim runs there, `--version` and a
# `deps` of the root's own /bin/ls.
#
# Like static_release.sh: ctest label "release", run by scripts/test after
# scripts/release; without the package it fails under CI.
source "$(dirname "$0")/../support/e2e.sh"
need dpkg-deb chroot
version=$(sed -n 's/^project(dslim VERSION \([0-9.]*\) .*/\1/p' "$DSLIM_SOURCE_DIR/CMakeLists.txt")
DEB=$DSLIM_SOURCE_DIR/build/release/dslim_${version}_amd64.deb
need_release "$DEB"

dpkg-deb --contents "$DEB" | awk '{ print $6 }' | sort >"$TMP/contents"
for want in ./usr/bin/dslim ./usr/share/man/man1/dslim.1.gz ./usr/share/doc/dslim/README.md; do
  grep -qxF "$want" "$TMP/contents" || fail "the package lacks $want: $(cat "$TMP/contents")"
done
[[ -z $(dpkg-deb --field "$DEB" Depends) ]] || fail "the static package depends on $(dpkg-deb --field "$DEB" Depends)"
dpkg-deb --fsys-tarfile "$DEB" | tar -xO ./usr/share/man/man1/dslim.1.gz | gzip -dc >"$TMP/dslim.1"
grep -q '^\.SH NAME' "$TMP/dslim.1" || fail "the man page has no NAME section"
for sub in binary image deps inspect; do
  grep -qxF ".SS \"dslim $sub\"" "$TMP/dslim.1" || fail "the man page lacks dslim $sub"
done
grep -qF -- '--dest-creds' "$TMP/dslim.1" || fail "the man page lacks binary's options"
echo "ok: $DEB holds dslim, its man page and the README, and depends on nothing"

test_root bullseye
root=$TMP/root
cp -a "$TEST_ROOT" "$root"
cp "$DEB" "$root/tmp/dslim.deb"
chroot "$root" dpkg -i /tmp/dslim.deb >"$TMP/dpkg.log" 2>&1 || fail "dpkg -i in the bullseye root failed: $(cat "$TMP/dpkg.log")"
out=$(chroot "$root" dslim --version) || fail "the installed dslim does not run in the bullseye root"
grep -q "^dslim $version " <<<"$out" || fail "--version says: $out"
chroot "$root" dslim deps /bin/ls >"$TMP/deps.txt" 2>&1 || fail "dslim deps /bin/ls in the bullseye root failed: $(cat "$TMP/deps.txt")"
grep -q "libc.so.6" "$TMP/deps.txt" || fail "deps /bin/ls: $(cat "$TMP/deps.txt")"
chroot "$root" dpkg -r dslim >/dev/null 2>&1 || fail "dpkg -r dslim failed"
[[ ! -e $root/usr/bin/dslim ]] || fail "dpkg -r left /usr/bin/dslim"
echo "ok: dpkg -i in a Debian 11 root: $(head -1 <<<"$out"); deps /bin/ls runs; dpkg -r removes it"
