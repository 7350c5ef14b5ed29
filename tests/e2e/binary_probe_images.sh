#!/usr/bin/env bash
# --probe from an image source: python3 and nginx picked from the benchmark
# image (Debian bookworm, two layers; scripts/make-bench-image), each probed
# once in a sandbox over the image's merged layers, then run under runc with
# the same arguments. Python brings the modules and extension libraries it
# imported and not the rest of its standard library; nginx -t brings its
# configuration, the module it loads, www-data's passwd and group entries and
# the directories it writes into.
source "$(dirname "$0")/../support/e2e.sh"
need skopeo umoci runc jq
export LC_ALL=C # sort and comm agree
test_image
SRC=oci:$TEST_IMAGE/layout:bench
image_entries src "$SRC"

# slim NAME [dslim binary args...]: the image oci:$TMP/img:NAME from $SRC,
# its report in $TMP/NAME.txt (stderr $TMP/NAME.err), its entries loaded
# (image_entries NAME), its paths in $TMP/NAME.files; unpacked in
# $TMP/bundle-NAME.
slim() {
  local name=$1; shift
  "$DSLIM" binary --from "$SRC" "$@" -o "oci:$TMP/img:$name" >"$TMP/$name.txt" 2>"$TMP/$name.err" ||
    fail "$name: dslim binary $* failed: $(cat "$TMP/$name.err")"
  image_entries "$name" "oci:$TMP/img:$name"
  jq -r '.files[].path' "$TMP/entries-$name.json" | sort >"$TMP/$name.files"
  unpack_bundle "$TMP/img:$name" "$TMP/bundle-$name"
}

# probe_ok NAME [ARGS]: the report has one probe line, and it says the probe
# exited 0: `probe "ARGS": exit 0 in S s, K files added` (ARGS checked when
# given: how quotes inside ARGS are shown is not pinned here).
probe_ok() {
  local lines
  lines=$(grep '^probe ' "$TMP/$1.txt") || fail "$1: no probe line in the report: $(cat "$TMP/$1.txt")"
  [[ $(wc -l <<<"$lines") -eq 1 ]] || fail "$1: more than one probe line: $lines"
  [[ $lines =~ ^probe\ \".*\":\ exit\ 0\ in\ [0-9]+(\.[0-9]+)?\ s,\ [0-9]+\ files?\ added$ ]] ||
    fail "$1: the probe did not exit 0: $lines"
  [[ $# -lt 2 || $lines == "probe \"$2\": "* ]] || fail "$1: the probe line is not for \"$2\": $lines"
  echo "ok: $1: $lines"
}

# file_in NAME PATH: PATH leads to a regular file in the image, the same the
# source's PATH leads to; prints that file's path.
file_in() {
  local got want
  got=$(image_resolve "$1" "$2") || fail "$1: $2 is not in the image (or a link of its chain is missing)"
  want=$(image_resolve src "$2") || fail "the benchmark image has no $2"
  [[ $got == "$want" && $(image_type "$1" "$got") == file ]] || fail "$1: $2 leads to $got ($(image_type "$1" "$got")), the source's to $want"
  echo "$got"
}

# bytes NAME PREFIX: the bytes of the regular files under PREFIX in image NAME.
bytes() {
  jq --arg p "$2" '[.files[] | select(.type == "file" and (.path | startswith($p))) | .size] | add // 0' "$TMP/entries-$1.json"
}

# --- python3 -c 'import json, sqlite3, ssl' -----------------------------------
pylib=$(jq -r '.files[].path' "$TMP/entries-src.json" | grep -E '^/usr/lib/python3\.[0-9]+/os\.py$' | head -1)
pylib=${pylib%/os.py}
[[ -n $pylib ]] || fail "the benchmark image has no /usr/lib/python3.*/os.py"
code='import json, sqlite3, ssl; print("ok")'
# (--probe=ARGS: ARGS starting with - is a value, not an option.)
slim py --pick /usr/bin/python3 --probe="-c '$code'"
probe_ok py
# What it imported, and the libraries of the extensions (found by name in the
# source's listing: the ABI tag is the source's).
ext() { jq -r '.files[].path' "$TMP/entries-src.json" | grep -E "^$pylib/lib-dynload/$1\.cpython-[^/]*\.so\$" | head -1; }
lib() { jq -r '.files[].path' "$TMP/entries-src.json" | grep -E "/$1\$" | head -1; }
for p in "$pylib/json/__init__.py" "$(ext _sqlite3)" "$(ext _ssl)" "$(lib 'libsqlite3\.so\.0')" \
  "$(lib 'libssl\.so\.3')" "$(lib 'libcrypto\.so\.3')"; do
  [[ -n $p && $p != / ]] || fail "the benchmark image lacks a module or library python needs here"
  file_in py "$p" >/dev/null
done
# Not the whole standard library: packages it never imported are not there
# at all (each is in the source).
for p in email asyncio xml unittest http; do
  [[ -n $(image_type src "$pylib/$p/__init__.py") ]] || fail "the benchmark image has no $pylib/$p"
  ! grep -qE "^$pylib/$p(/|\$)" "$TMP/py.files" || fail "py: $pylib/$p came into the image"
done
for m in _curses _testcapi _decimal; do
  [[ -n $(ext "$m") ]] || fail "the benchmark image has no $m extension"
  ! grep -qxF "$(ext "$m")" "$TMP/py.files" || fail "py: the $m extension came into the image"
done
# Sizes: the import above reads about 1.8 MB of the source's 25 MB standard
# library (.py, .pyc, extensions): at most a fifth of it may come. The whole
# image (19-20 MB: the 6.8 MB interpreter, libcrypto 4.7 MB, libc, libm,
# libssl, libsqlite3, the C.UTF-8 LC_CTYPE, those modules) must stay under
# the interpreter plus the whole standard library (~32 MB), which it would
# pass by itself had the standard library come whole.
std_src=$(bytes src "$pylib/") std_img=$(bytes py "$pylib/")
((std_img * 5 <= std_src)) || fail "py: $std_img bytes of $pylib in the image, more than a fifth of the source's $std_src"
interp=$(jq --arg p "$(image_resolve src /usr/bin/python3)" '.files[] | select(.path == $p) | .size' "$TMP/entries-src.json")
total=$(jq .totals.uncompressed_bytes "$TMP/entries-py.json")
((total < interp + std_src)) ||
  fail "py: the image holds $total bytes, not less than the interpreter ($interp) and the whole standard library ($std_src)"
echo "ok: py: $std_img of $std_src bytes of $pylib; $total bytes in all"
out=$(run_bundle "$TMP/bundle-py" /usr/bin/python3 -c "$code") || fail "py: under runc: $(cat "$TMP/run.err")"
[[ $out == ok ]] || fail "py: under runc printed '$out', want 'ok'"
echo "ok: py prints ok under runc"

# --- nginx -t -------------------------------------------------------------------
slim nginx --pick /usr/sbin/nginx --probe=-t
# (nginx -t as root chowns /var/lib/nginx/* to www-data, uid 33, before it
# opens its logs: a sandbox that maps only uid 0 makes it fail there.)
probe_ok nginx "-t"
file_in nginx /etc/nginx/nginx.conf >/dev/null
# Each enabled module's configuration (links to modules-available), and the
# module each loads (paths relative to nginx's prefix, /usr/share/nginx,
# whose modules/ is a link to /usr/lib/nginx/modules).
enabled=$(jq -r '.files[].path | select(startswith("/etc/nginx/modules-enabled/"))' "$TMP/entries-src.json")
[[ -n $enabled ]] || fail "the benchmark image enables no nginx module"
for conf in $enabled; do
  [[ $(image_type nginx "$conf") == "$(image_type src "$conf")" && $(image_target nginx "$conf") == "$(image_target src "$conf")" ]] ||
    fail "nginx: $conf is not in the image as the source has it"
  real=$(file_in nginx "$conf")
  modules=$(sed -n 's/^[[:space:]]*load_module[[:space:]]\{1,\}\([^;]*\);.*/\1/p' "$TMP/bundle-nginx/rootfs$real")
  [[ -n $modules ]] || fail "nginx: $conf loads no module"
  for m in $modules; do
    [[ $m == /* ]] || m=/usr/share/nginx/$m
    file_in nginx "$m" >/dev/null
    echo "ok: nginx: $conf loads $m"
  done
done
# www-data, for `user www-data;` (its group too: nginx takes the group named as the user).
for f in passwd group; do
  real=$(file_in nginx /etc/$f)
  grep -q '^www-data:' "$TMP/bundle-nginx/rootfs$real" || fail "nginx: /etc/$f has no www-data: $(cat "$TMP/bundle-nginx/rootfs$real")"
done
# The directories nginx -t writes into come as directories, without the
# source's contents: its pid file's, its temporary paths' and its logs'.
for d in /run /var/lib/nginx /var/log/nginx; do
  real=$(image_resolve nginx "$d") || fail "nginx: no $d in the image"
  [[ $(image_type nginx "$real") == dir ]] || fail "nginx: $d is not a directory in the image"
done
! grep -qE '^/(run|var/lib/nginx)/' "$TMP/nginx.files" || fail "nginx: contents of /run or /var/lib/nginx came: $(grep -E '^/(run|var/lib/nginx)/' "$TMP/nginx.files" | tr '\n' ' ')"
# Under runc with the capabilities docker and podman give a container by
# default (nginx -t as root chowns its temporary directories to www-data).
bundle_docker_caps "$TMP/bundle-nginx"
rc=0
out=$(run_bundle "$TMP/bundle-nginx" /usr/sbin/nginx -t) || rc=$?
((rc == 0)) || fail "nginx: nginx -t under runc exited $rc: $(cat "$TMP/run.err")"
[[ -z $out ]] || fail "nginx: nginx -t printed on stdout: $out"
for line in "nginx: the configuration file /etc/nginx/nginx.conf syntax is ok" \
  "nginx: configuration file /etc/nginx/nginx.conf test is successful"; do
  grep -qxF "$line" "$TMP/run.err" || fail "nginx: no '$line' from nginx -t under runc: $(cat "$TMP/run.err")"
done
echo "ok: nginx -t succeeds under runc"
