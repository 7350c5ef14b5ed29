#!/usr/bin/env bash
# --probe: the image's entrypoint runs once per probe in a sandbox over the
# source, and every file of the source it touches comes into the image (with
# its symlink chain; an executed program with its libraries; a directory it
# only writes into as a directory). Each program is slimmed with a probe,
# then run under runc with the same arguments and must print what it printed
# in the probe; the image's file list is checked against what the program
# touched, and, with `--without all`, against the same image made without the
# probe (so the probe, not inference, brought the files).
# The sandbox is not optional: when it cannot be made, dslim exits 2 and the
# slims below fail. This test needs only skopeo, umoci, runc and jq, so
# under CI nothing here skips.
source "$(dirname "$0")/../support/e2e.sh"
need skopeo umoci runc jq
export LC_ALL=C # sort and comm agree
P=$DSLIM_FIXTURE_DIR/probe

# slim NAME [dslim binary args...]: the image oci:$TMP/img:NAME, its report in
# $TMP/NAME.txt (stderr $TMP/NAME.err), its entries loaded (image_entries),
# its paths in $TMP/NAME.files, its non-directories in $TMP/NAME.nondir
# (both sorted); SLIM_SECONDS is how long dslim took. Without package
# metadata: what a probe adds is compared file by file, and a zone file would
# bring tzdata's copyright too (tests/e2e/packages_*.sh test the metadata).
slim() {
  local name=$1 start; shift
  start=$(date +%s.%N)
  "$DSLIM" binary --no-package-metadata "$@" -o "oci:$TMP/img:$name" >"$TMP/$name.txt" 2>"$TMP/$name.err" ||
    fail "$name: dslim binary $* failed: $(cat "$TMP/$name.err")"
  SLIM_SECONDS=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
  image_entries "$name" "oci:$TMP/img:$name"
  jq -r '.files[].path' "$TMP/entries-$name.json" | sort >"$TMP/$name.files"
  jq -r '.files[] | select(.type != "dir") | .path' "$TMP/entries-$name.json" | sort >"$TMP/$name.nondir"
}

# probe_line NAME ARGS STATUS: the text report has exactly one line for the
# probe of ARGS, `probe "ARGS": STATUS in S s, K files added`, STATUS being
# `exit N` or `killed at the timeout` (for which ` in S s, K files added` may
# be left out). Sets PROBE_SECONDS (S) and PROBE_ADDED (K), empty when absent.
probe_line() {
  local name=$1 args=$2 status=$3 line="" l n=0
  while IFS= read -r l; do
    [[ $l == "probe \"$args\": "* ]] && { line=$l; n=$((n + 1)); }
  done <"$TMP/$name.txt"
  ((n == 1)) || fail "$name: $n report lines for the probe \"$args\", want 1: $(grep '^probe ' "$TMP/$name.txt")"
  local re='^probe ".*": (exit [0-9]+|killed at the timeout)( in ([0-9]+(\.[0-9]+)?) s)?(, ([0-9]+) files? added)?$'
  [[ $line =~ $re ]] || fail "$name: malformed probe line: $line"
  [[ ${BASH_REMATCH[1]} == "$status" ]] || fail "$name: the probe \"$args\" ended with '${BASH_REMATCH[1]}', want '$status': $line"
  PROBE_SECONDS=${BASH_REMATCH[3]} PROBE_ADDED=${BASH_REMATCH[6]}
  if [[ $status == exit* && ( -z $PROBE_SECONDS || -z $PROBE_ADDED ) ]]; then
    fail "$name: no duration or count in: $line"
  fi
  echo "ok: $name: $line"
}

# chain PATH: the paths of dir:/ that PATH goes through, as an image holds
# them (its directory resolved: the image has /lib -> usr/lib of its own),
# then each link's target, down to the file.
chain() {
  local p t n=0
  p=$(readlink -f "$(dirname "$1")")/$(basename "$1")
  echo "$p"
  while [[ -L $p ]]; do
    ((++n <= 40)) || fail "chain $1: too many links"
    t=$(readlink "$p")
    [[ $t == /* ]] || t=$(dirname "$p")/$t
    p=$(readlink -f "$(dirname "$t")")/$(basename "$t")
    echo "$p"
  done
}

# has_chain NAME PATH: the image holds PATH's chain of dir:/, each link with
# the source's target, and PATH leads to that file in the image.
has_chain() {
  local name=$1 p last=""
  for p in $(chain "$2"); do
    [[ -n $(image_type "$name" "$p") ]] || fail "$name: no $p (of $2) in the image"
    if [[ -L $p ]]; then
      [[ $(image_target "$name" "$p") == "$(readlink "$p")" ]] ||
        fail "$name: $p -> $(image_target "$name" "$p"), the source has -> $(readlink "$p")"
    fi
    last=$p
  done
  [[ $(image_resolve "$name" "$2") == "$last" && $(image_type "$name" "$last") == file ]] ||
    fail "$name: $2 does not lead to the file $last in the image"
}

# lacks NAME PATH: the image holds neither PATH nor anything under it.
lacks() {
  ! awk -v p="$2" '$0 == p || index($0, p "/") == 1 { found = 1 } END { exit !found }' "$TMP/$1.files" ||
    fail "$1: the image holds $2: $(grep -F "$2" "$TMP/$1.files" | head -5 | tr '\n' ' ')"
}

# nothing_under NAME DIR: the image holds nothing under DIR (DIR itself may be).
nothing_under() {
  ! awk -v p="$2/" 'index($0, p) == 1 { found = 1 } END { exit !found }' "$TMP/$1.files" ||
    fail "$1: the image holds what $2 holds: $(grep -F "$2/" "$TMP/$1.files" | head -5 | tr '\n' ' ')"
}

# added NAME BASE: the paths of image NAME that image BASE lacks (sorted);
# NAME must hold every path of BASE.
added() {
  [[ -z $(comm -23 "$TMP/$2.files" "$TMP/$1.files") ]] ||
    fail "$1 lacks paths that $2 (no probe) has: $(comm -23 "$TMP/$2.files" "$TMP/$1.files" | tr '\n' ' ')"
  comm -13 "$TMP/$2.files" "$TMP/$1.files"
}
added_nondir() { comm -13 "$TMP/$2.nondir" "$TMP/$1.nondir"; }

# run_image NAME [ARGS...]: unpacks image NAME (once, $TMP/bundle-NAME) and
# runs it; RUN_OUT its stdout, RUN_RC its status, its stderr in $TMP/run.err.
run_image() {
  local name=$1 bundle=$TMP/bundle-$1; shift
  [[ -d $bundle ]] || unpack_bundle "$TMP/img:$name" "$bundle"
  RUN_RC=0
  RUN_OUT=$(run_bundle "$bundle" "$@") || RUN_RC=$?
}

# prints_exactly NAME EXPECTED [ARGS...]: the image runs, exits 0 and its
# stdout is exactly EXPECTED (lines).
prints_exactly() {
  local name=$1 want=$2; shift 2
  run_image "$name" "$@"
  ((RUN_RC == 0)) || fail "$name: exit $RUN_RC under runc; stdout: $RUN_OUT; stderr: $(cat "$TMP/run.err")"
  [[ $RUN_OUT == "$want" ]] || fail "$name: under runc printed:
$RUN_OUT
want:
$want"
  echo "ok: $name prints under runc: $(tr '\n' '|' <<<"$RUN_OUT")"
}

# A root with this machine's loader and libc at their Debian paths (not
# merged: /lib and /lib64 are directories), as in binary_symbol_versions.sh.
libc_root() {
  mkdir -p "$1/lib64" "$1/lib/x86_64-linux-gnu"
  cp -L /lib64/ld-linux-x86-64.so.2 "$1/lib64/"
  cp -L /lib/x86_64-linux-gnu/libc.so.6 "$1/lib/x86_64-linux-gnu/"
}

# The dynamic loader itself opens /etc/ld.so.cache in every probe over dir:/:
# a probe may keep it or leave it out; nothing else may come uninvited.
LOADER_FILES=/etc/ld.so.cache

# --- 1. The zone file TZ names, found by running the program -----------------
tokyo=/usr/share/zoneinfo/Asia/Tokyo
[[ -f $tokyo ]] || fail "this machine has no $tokyo (package tzdata)"
slim tz_static "$P/tz_hour" --env TZ=Asia/Tokyo --without all
# Two probes (tz_hour takes no arguments): one report line each.
slim tz "$P/tz_hour" --env TZ=Asia/Tokyo --without all --probe "" --probe "a b"
probe_line tz "a b" "exit 0"
probe_line tz "" "exit 0"
tz_added=$PROBE_ADDED
has_chain tz "$tokyo"
# Only that zone: of /usr/share/zoneinfo, exactly Tokyo's chain.
grep '^/usr/share/zoneinfo/' "$TMP/tz.nondir" >"$TMP/tz.zones" || true
chain "$tokyo" | sort -u >"$TMP/tz.zones.want"
diff "$TMP/tz.zones.want" "$TMP/tz.zones" >/dev/null ||
  fail "tz: the zone files are not exactly Tokyo's: $(tr '\n' ' ' <"$TMP/tz.zones")"
# What the probe added: the zone, and at most the loader's cache.
added_nondir tz tz_static | grep -vxF "$LOADER_FILES" >"$TMP/tz.added" || true
diff "$TMP/tz.zones.want" "$TMP/tz.added" >/dev/null ||
  fail "tz: the probe added $(tr '\n' ' ' <"$TMP/tz.added"), want $(tr '\n' ' ' <"$TMP/tz.zones.want")"
! grep -q '^/usr/share/zoneinfo' "$TMP/tz_static.files" || fail "tz_static: --without all still brought zoneinfo"
prints_exactly tz "hour: 07"
prints_exactly tz_static "hour: 22"
# The JSON report says the same; the image does not depend on the report or
# on how many probes saw the same files.
slim tz_json "$P/tz_hour" --env TZ=Asia/Tokyo --without all --probe "" --report json
jq -e '.probes | length == 1' "$TMP/tz_json.txt" >/dev/null || fail "tz_json: want 1 probe: $(jq -c .probes "$TMP/tz_json.txt")"
jq -e '.probes[0] | (.args == "" or .args == []) and .status == 0 and (.seconds | type == "number")
  and (.added | type == "array")' "$TMP/tz_json.txt" >/dev/null ||
  fail "tz_json: probes[0] is not {args: \"\", status: 0, seconds, added}: $(jq -c '.probes[0]' "$TMP/tz_json.txt")"
jq -r '.probes[0].added[]' "$TMP/tz_json.txt" | sort >"$TMP/tz_json.added"
[[ -z $(comm -23 "$TMP/tz_json.added" "$TMP/tz_json.files") ]] ||
  fail "tz_json: 'added' names paths the image lacks: $(comm -23 "$TMP/tz_json.added" "$TMP/tz_json.files" | tr '\n' ' ')"
# Its files (directories aside) are those the image has beyond the unprobed one.
[[ $(comm -12 "$TMP/tz_json.added" "$TMP/tz_json.nondir") == "$(added_nondir tz_json tz_static)" ]] ||
  fail "tz_json: 'added' is $(tr '\n' ' ' <"$TMP/tz_json.added"), the image added $(added_nondir tz_json tz_static | tr '\n' ' ')"
[[ $(jq '.probes[0].added | length' "$TMP/tz_json.txt") -eq $tz_added ]] ||
  fail "tz: the text report says $tz_added files added, the JSON one lists $(jq -c '.probes[0].added' "$TMP/tz_json.txt")"
[[ $(jq -r .manifest_digest "$TMP/entries-tz_json.json") == $(jq -r .manifest_digest "$TMP/entries-tz.json") ]] ||
  fail "tz_json: another image than tz for the same files"
echo "ok: TZ=Asia/Tokyo: the probe brought that zone file only"

# --- 2. A script's programs, each with its libraries --------------------------
slim script_static "$P/ls_sed.sh" --without all
slim script "$P/ls_sed.sh" --probe ""
probe_line script "" "exit 0"
for prog in ls sed; do
  # The first of the image's PATH, as the script's shell finds it.
  path=$(PATH=/usr/local/bin:/usr/bin:/bin && command -v "$prog") || fail "no $prog on this machine"
  has_chain script "$path"
  lacks script_static "$(chain "$path" | head -1)"
  libs=$(/lib64/ld-linux-x86-64.so.2 --list "$path" | sed -n 's/.* => \(\/[^ ]*\) (0x.*/\1/p')
  grep -q libselinux <<<"$libs" || fail "$path links no libselinux here: $libs"
  for lib in $libs; do has_chain script "$lib"; done
  echo "ok: script: $path and $(wc -w <<<"$libs") libraries"
done
# ls lists /usr/share: it comes as a directory, without what it holds.
[[ $(image_type script /usr/share) == dir ]] || fail "script: /usr/share is not a directory in the image"
nothing_under script /usr/share
prints_exactly script "bye"

# --- 3. A child that opens its file after its parent exited ------------------
gpl=/usr/share/common-licenses/GPL-3
[[ -f $gpl ]] || fail "this machine has no $gpl"
slim fork "$P/fork_late" --without all --probe "$gpl"
probe_line fork "$gpl" "exit 0"
awk -v s="$PROBE_SECONDS" 'BEGIN { exit !(s >= 0.3) }' ||
  fail "fork: the probe took $PROBE_SECONDS s: it did not wait 300 ms for the child"
has_chain fork "$gpl"
# (Under runc the child dies with PID 1, before its 300 ms are up.)
prints_exactly fork "forked" /app "$gpl"

# --- 4. Writing under /var/cache/x: the directory, not the file; the source unchanged
croot=$TMP/root-cache
libc_root "$croot"
mkdir -p "$croot/var/cache/x"
chmod 0750 "$croot/var/cache/x"
snapshot() { (cd "$1" && find . -printf '%p %y %m %U:%G %s %T@\n' | sort); }
snapshot "$croot" >"$TMP/cache.before"
slim cache_static "$P/write_cache" --from "dir:$croot" --without all
slim cache "$P/write_cache" --from "dir:$croot" --without all --probe "" --report json
jq -e '.probes | length == 1 and .[0].status == 0 and (.[0].added - ["/var", "/var/cache", "/var/cache/x"] == [])' \
  "$TMP/cache.txt" >/dev/null || fail "cache: the probe's report: $(jq -c .probes "$TMP/cache.txt")"
[[ $(added cache cache_static | tr '\n' ' ') == "/var /var/cache /var/cache/x " ]] ||
  fail "cache: the probe added $(added cache cache_static | tr '\n' ' '), want /var /var/cache /var/cache/x"
for d in /var /var/cache /var/cache/x; do
  [[ $(image_type cache "$d") == dir ]] || fail "cache: $d is not a directory in the image"
done
[[ $(jq -r '.files[] | select(.path == "/var/cache/x") | .mode' "$TMP/entries-cache.json") == $((8#750)) ]] ||
  fail "cache: /var/cache/x has not the source's mode 0750"
snapshot "$croot" >"$TMP/cache.after"
diff "$TMP/cache.before" "$TMP/cache.after" >/dev/null ||
  fail "cache: the probe changed the source: $(diff "$TMP/cache.before" "$TMP/cache.after" | tr '\n' ' ')"
[[ -z $(ls -A "$croot/var/cache/x") ]] || fail "cache: the source's /var/cache/x is not empty"
prints_exactly cache "wrote"

# --- 5. Escapes through .. and symlinks reach nothing outside the root --------
# The root lies five levels under $TMP/h, where the host's side of every
# escape lands: ../../../../../etc from the root's /tmp, the root prefixed to
# /../../../../etc, and an absolute link naming the canary's host path all
# reach $TMP/h/etc/escape-canary, which holds a token found nowhere else.
# Inside the root, the first three are the root's own /etc/escape-canary;
# the last two are absent.
h=$TMP/h
eroot=$h/a/b/c/root
hostcanary=$h/etc/escape-canary
token="host-canary-$$-$RANDOM$RANDOM"
libc_root "$eroot"
mkdir -p "$eroot/etc" "$eroot/tmp" "$eroot/data" "$h/etc"
echo root-canary >"$eroot/etc/escape-canary"
echo "$token" >"$hostcanary"
ln -s /../../../../etc/escape-canary "$eroot/data/link-out"
ln -s /etc/escape-canary "$eroot/data/abs-link"
ln -s "$hostcanary" "$eroot/data/host-link"
echo unrelated >"$eroot/data/untouched"
# (The host's side: each way out does reach the canary, so a resolver that
# leaves the root would take it.)
[[ $(cd "$eroot/tmp" && cat ../../../../../etc/escape-canary) == "$token" &&
   $(cat "$eroot/../../../../etc/escape-canary") == "$token" &&
   $(cat "$eroot/data/host-link") == "$token" ]] || fail "escape: the test's layout does not reach the canary"
args="/data/host-link $hostcanary"
slim escape "$P/escape" --from "dir:$eroot" --without all --workdir /tmp --probe "$args"
probe_line escape "$args" "exit 0"
[[ $(image_type escape /etc/escape-canary) == file ]] || fail "escape: no /etc/escape-canary in the image"
[[ $(image_type escape /data/link-out) == symlink && $(image_type escape /data/abs-link) == symlink ]] ||
  fail "escape: /data/link-out and /data/abs-link are not in the image as links"
lacks escape /data/untouched
# Every path is one the root has, as the root has it (/app aside).
unpack_bundle "$TMP/img:escape" "$TMP/bundle-escape"
while IFS= read -r p; do
  [[ $p == /app ]] && continue
  [[ ! $p =~ (^|/)\.\.?(/|$) && $p != *//* ]] || fail "escape: a path with . or .. in the image: $p"
  [[ -e $eroot$p || -L $eroot$p ]] || fail "escape: the image holds $p, which the root does not have"
  [[ $(realpath "$eroot$(dirname "$p")") == "$eroot"* ]] || fail "escape: $p lies outside the root"
  case $(image_type escape "$p") in
    symlink)
      [[ -L $eroot$p && $(image_target escape "$p") == "$(readlink "$eroot$p")" ]] ||
        fail "escape: $p -> $(image_target escape "$p") is not the root's link" ;;
    file)
      [[ -f $eroot$p && ! -L $eroot$p && $(image_resolve escape "$p") == "$p" ]] ||
        fail "escape: $p is not a file of the root"
      cmp -s "$eroot$p" "$TMP/bundle-escape/rootfs$p" || fail "escape: $p differs from the root's" ;;
    dir) [[ -d $eroot$p && ! -L $eroot$p ]] || fail "escape: $p is not a directory of the root" ;;
    *) fail "escape: $p is a $(image_type escape "$p")" ;;
  esac
done <"$TMP/escape.files"
# The canary's token is in no blob of the layout, compressed or not.
for blob in "$TMP/img/blobs/sha256/"*; do
  if gzip -t "$blob" 2>/dev/null; then gzip -dc "$blob" >"$TMP/blob"; else cp "$blob" "$TMP/blob"; fi
  ! grep -aqF "$token" "$TMP/blob" || fail "escape: the host's canary is in blob $(basename "$blob")"
done
prints_exactly escape "cwd: /tmp
../../../../../etc/escape-canary: root-canary
/data/link-out: root-canary
/data/abs-link: root-canary
/data/host-link: absent
$hostcanary: absent" /app /data/host-link "$hostcanary"
echo "ok: escape: nothing of the host in the image"

# --- 6. A program that never exits: stopped at the timeout, its files kept ----
[[ -f /etc/hostname ]] || fail "this machine has no /etc/hostname"
slim forever "$P/forever" --without all --probe-timeout 2 --probe /etc/hostname
awk -v s="$SLIM_SECONDS" 'BEGIN { exit !(s >= 2 && s < 30) }' ||
  fail "forever: dslim took $SLIM_SECONDS s with --probe-timeout 2 (want 2 to 30 s: 2 s, SIGTERM, SIGKILL 2 s later)"
probe_line forever /etc/hostname "killed at the timeout"
has_chain forever /etc/hostname
unpack_bundle "$TMP/img:forever" "$TMP/bundle-forever"
start_bundle "$TMP/bundle-forever" /app /etc/hostname
for ((i = 0; i < 100; i++)); do
  [[ $(cat "$TMP/bg.out") == opened ]] && break
  [[ $(bundle_status) == running ]] || fail "forever: stopped under runc: $(cat "$TMP/bg.out" "$TMP/bg.err")"
  sleep 0.1
done
[[ $(cat "$TMP/bg.out") == opened ]] || fail "forever: printed '$(cat "$TMP/bg.out")' under runc, want 'opened'"
[[ $(bundle_status) == running ]] || fail "forever: not running under runc: $(cat "$TMP/bg.err")"
stop_bundle
echo "ok: forever: killed at the timeout after $SLIM_SECONDS s, /etc/hostname kept, runs under runc"

# --- 7. A server probed over HTTP: the file it reads on request ---------------
hroot=$TMP/root-http
libc_root "$hroot"
mkdir -p "$hroot/srv/data" "$hroot/srv/other"
printf 'served by the probe test %s\nsecond line\n' "$$" >"$hroot/srv/data/served.txt"
echo sibling >"$hroot/srv/data/sibling.txt"
echo secret >"$hroot/srv/data/secret.txt"
echo other >"$hroot/srv/other/other.txt"
slim http_static "$P/http_file" --from "dir:$hroot" --without all --cmd 8080
slim http "$P/http_file" --from "dir:$hroot" --without all --cmd 8080 --probe-http 8080/file
[[ $(grep -c '^probe ' "$TMP/http.txt") -eq 1 ]] || fail "http: want one probe line: $(grep '^probe ' "$TMP/http.txt")"
grep -q '^probe "8080": ' "$TMP/http.txt" || fail "http: no probe line for the --cmd args \"8080\": $(grep '^probe ' "$TMP/http.txt")"
[[ $(added http http_static | tr '\n' ' ') == "/srv /srv/data /srv/data/served.txt " ]] ||
  fail "http: the probe added $(added http http_static | tr '\n' ' '), want /srv /srv/data /srv/data/served.txt"
[[ $(image_type http /srv/data/served.txt) == file ]] || fail "http: served.txt is not a file in the image"
# Under runc, in the host's network namespace on a free port, it serves the file.
unpack_bundle "$TMP/img:http" "$TMP/bundle-http"
bundle_host_network "$TMP/bundle-http"
port=$(free_port)
start_bundle "$TMP/bundle-http" /app "$port"
for ((i = 0; i < 100; i++)); do
  grep -qxF "listening on 127.0.0.1:$port" "$TMP/bg.out" && break
  [[ $(bundle_status) == running ]] || fail "http: stopped under runc: $(cat "$TMP/bg.out" "$TMP/bg.err")"
  sleep 0.1
done
resp=$(http_get "$port" /file) || fail "http: cannot connect to 127.0.0.1:$port: $(cat "$TMP/bg.out" "$TMP/bg.err")"
stop_bundle
[[ $(head -1 <<<"$resp" | tr -d '\r') == "HTTP/1.0 200 OK" ]] || fail "http: GET /file under runc: $resp"
[[ $(sed '1,/^\r$/d' <<<"$resp") == "$(cat "$hroot/srv/data/served.txt")" ]] ||
  fail "http: GET /file under runc answered: $resp"
echo "ok: http: --probe-http brought served.txt only, and the image serves it"

# --- 8. A probe that cannot start is an error; one that fails is reported -----
expect_exit 2 "$DSLIM" binary "$P/tz_hour" --without all --entrypoint '["/nonexistent"]' --probe "" \
  -o "oci:$TMP/nostart:x"
grep -qF /nonexistent <<<"$E2E_STDERR" || fail "the message does not name /nonexistent: $E2E_STDERR"
[[ ! -e $TMP/nostart ]] || fail "an image was written though the probe could not start"
slim false "$P/tz_hour" --without all --entrypoint '["/bin/false"]' --probe ""
probe_line false "" "exit 1"
# The program it executed comes with its chain (/bin -> usr/bin).
if [[ -L /bin ]]; then
  [[ $(image_type false /bin) == symlink && $(image_target false /bin) == "$(readlink /bin)" ]] ||
    fail "false: /bin is not the source's link in the image"
fi
has_chain false /bin/false
run_image false
[[ $RUN_RC -eq 1 && -z $RUN_OUT ]] || fail "false: under runc exited $RUN_RC, printed '$RUN_OUT'; want 1 and nothing"
echo "ok: a probe exiting 1 is reported and the image written"
