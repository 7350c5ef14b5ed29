#!/usr/bin/env bash
# dslim image: images with a command of their own, made from the benchmark
# image (Debian bookworm, scripts/make-bench-image) with umoci, slimmed by
# that command (run once in a sandbox unless --no-probe). The original and
# the slim image each run under runc by their own config (the runtime config
# umoci makes of the image config) and must do the same: the same stdout, or
# the same status and stderr lines. The slim config is the original's, every
# file keeps its owner, group and mode, the slim image is a small fraction
# of the original and the report says by how much. Also: --probe ARGS in
# place of the Cmd, --no-probe, --probe-http, the StopSignal at the probe's
# timeout. Then the refusals: a program the image lacks, no command at all,
# over --max-size, a dir: source.
source "$(dirname "$0")/../support/e2e.sh"
need skopeo umoci runc jq tar
export LC_ALL=C             # sort and comm agree
unset SOURCE_DATE_EPOCH     # `created` is then the epoch
test_image
L=$TMP/layout
bench_layout "$L"
app_image "$L" app

# cfg FROM TAG UMOCI_CONFIG_ARGS...: tag TAG of $L, FROM with that config.
cfg() {
  local from=$1 tag=$2; shift 2
  umoci --log error config --image "$L:$from" --tag "$tag" "$@" || fail "umoci config of $L:$tag failed"
}
# Two programs run by the shell: only the shell is named by the config.
cfg base sh --config.cmd /bin/sh --config.cmd=-c \
  --config.cmd 'echo start; /usr/bin/basename /a/b/c; /bin/date -u -d @0 +%Y'
cfg base nginx --config.entrypoint nginx --config.cmd=-t # a bare name, found on PATH
cfg base nobody --config.entrypoint /usr/bin/id --config.entrypoint=-u --config.user nobody
cfg base missing --config.entrypoint /usr/bin/does-not-exist
cfg app web --config.cmd serve --config.cmd 8080
# Ignores SIGTERM; at SIGINT (its StopSignal) reads /etc/issue.net and exits.
cfg base stop --config.stopsignal SIGINT --config.cmd /bin/sh --config.cmd=-c \
  --config.cmd "trap 'cat /etc/issue.net; exit 0' INT; trap '' TERM; sleep 100 & wait"

# The originals run over one unpacked root, tag app's: every tag above has
# the same files as base or app, and app's are base's plus /srv.
umoci --log error unpack --image "$L:app" "$TMP/orig" >/dev/null || fail "umoci unpack $L:app failed"
R=$TMP/orig/rootfs

# orig_bundle NAME TAG: $TMP/orig-NAME, a bundle over $R whose process is
# what umoci makes of tag TAG's config (as umoci unpack would).
orig_bundle() {
  local b=$TMP/orig-$1
  mkdir "$b"
  umoci --log error raw runtime-config --image "$L:$2" --rootfs "$R" "$b/config.json" ||
    fail "umoci raw runtime-config $L:$2 failed"
  jq --arg r "$R" '.root.path = $r | .process.terminal = false' "$b/config.json" >"$b/config.json.new" &&
    mv "$b/config.json.new" "$b/config.json"
}

# run_own BUNDLE [ARGS...]: runs a bundle (by its own process unless ARGS);
# RUN_OUT its stdout, RUN_RC its status, RUN_ERR its stderr (and runc's).
run_own() {
  RUN_RC=0
  RUN_OUT=$(run_bundle "$@") || RUN_RC=$?
  RUN_ERR=$(cat "$TMP/run.err")
}

# same_run NAME [ARGS...]: the original (orig-NAME) and the slim image
# (bundle-NAME) exit 0 and print the same stdout; ORIG_ERR and SLIM_ERR are
# their stderr.
same_run() {
  local name=$1 want; shift
  run_own "$TMP/orig-$name" "$@"
  ((RUN_RC == 0)) || fail "$name: the original exited $RUN_RC under runc: $RUN_OUT $RUN_ERR"
  want=$RUN_OUT ORIG_ERR=$RUN_ERR
  run_own "$TMP/bundle-$name" "$@"
  ((RUN_RC == 0)) || fail "$name: the slim image exited $RUN_RC under runc; stdout: $RUN_OUT; stderr: $RUN_ERR"
  SLIM_ERR=$RUN_ERR
  [[ $RUN_OUT == "$want" ]] || fail "$name: the slim image printed:
$RUN_OUT
the original:
$want"
  echo "ok: $name prints the same as the original under runc: $(tr '\n' '|' <<<"$RUN_OUT")"
}

# slim NAME TAG [dslim image args...]: oci:$TMP/img:NAME from oci:$L:TAG, its
# report in $TMP/NAME.txt (stderr $TMP/NAME.err), its entries loaded
# (image_entries NAME), its paths in $TMP/NAME.files (sorted), unpacked in
# $TMP/bundle-NAME (umoci makes its runtime config of the slim config).
slim() {
  local name=$1 tag=$2; shift 2
  "$DSLIM" image "oci:$L:$tag" "$@" -o "oci:$TMP/img:$name" >"$TMP/$name.txt" 2>"$TMP/$name.err" ||
    fail "$name: dslim image oci:$L:$tag $* failed: $(cat "$TMP/$name.err")"
  image_entries "$name" "oci:$TMP/img:$name"
  jq -r '.files[].path' "$TMP/entries-$name.json" | sort >"$TMP/$name.files"
  unpack_bundle "$TMP/img:$name" "$TMP/bundle-$name"
}

# probe_line NAME STATUS [ARGS]: the report has one probe line, `probe
# "ARGS": STATUS...` (STATUS `exit N` or `killed at the timeout`; ARGS
# checked when given), as dslim binary writes it.
probe_line() {
  local lines re='^probe ".*": (exit [0-9]+|killed at the timeout)( in [0-9]+(\.[0-9]+)? s)?(, [0-9]+ files? added)?$'
  lines=$(grep '^probe ' "$TMP/$1.txt") || fail "$1: no probe line in the report: $(cat "$TMP/$1.txt")"
  [[ $(wc -l <<<"$lines") -eq 1 ]] || fail "$1: more than one probe line: $lines"
  [[ $lines =~ $re ]] || fail "$1: malformed probe line: $lines"
  [[ ${BASH_REMATCH[1]} == "$2" ]] || fail "$1: the probe ended with '${BASH_REMATCH[1]}', want '$2': $lines"
  [[ $# -lt 3 || $lines == "probe \"$3\": "* ]] || fail "$1: the probe line is not for \"$3\": $lines"
  echo "ok: $1: $lines"
}

# run_config REF: what a run takes of an image config (empty fields left out).
run_config() {
  skopeo_ inspect --config "$1" | jq -cS '.config // {} |
    {Entrypoint, Cmd, Env, User, WorkingDir, ExposedPorts, Volumes, Labels, StopSignal} |
    with_entries(select(.value != null and .value != "" and .value != [] and .value != {}))'
}

# same_config NAME TAG: the slim config runs as the original's, on its
# platform; `created` is the epoch (no SOURCE_DATE_EPOCH).
same_config() {
  local want got
  want=$(run_config "oci:$L:$2") got=$(run_config "oci:$TMP/img:$1")
  [[ $got == "$want" ]] || fail "$1: slim config $got, the original's $want"
  want=$(skopeo_ inspect --config "oci:$L:$2" | jq -r '"1970-01-01T00:00:00Z \(.os)/\(.architecture)"')
  got=$(skopeo_ inspect --config "oci:$TMP/img:$1" | jq -r '"\(.created) \(.os)/\(.architecture)"')
  [[ $got == "$want" ]] || fail "$1: created and platform $got, want $want"
  echo "ok: $1: the config is the original's: $want"
}

# Compressed bytes of an image: its manifest, config and layer blobs (what
# `dslim inspect` and binary's report call image_bytes).
image_bytes() {
  local m
  m=$(skopeo_ inspect --raw "$1" | wc -c) # ($(...) would drop a final newline)
  skopeo_ inspect --raw "$1" | jq --argjson m "$m" '$m + .config.size + ([.layers[].size] | add // 0)'
}
mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1e6 }'; }

# report_ok NAME TAG: the report has the line `oci:$L:TAG → X MB from Y MB
# (Z%)` (X and Y the slim and original image_bytes, one decimal each) and ends with `wrote DEST (DIGEST)`; the slim
# image is at most a fifth of the original (each is under 15 MB of 112).
report_ok() {
  local name=$1 src=oci:$L:$2 x y want got
  x=$(image_bytes "oci:$TMP/img:$name") y=$(image_bytes "$src")
  want="$src → $(mb "$x") MB from $(mb "$y") MB ($(awk -v x="$x" -v y="$y" 'BEGIN { printf "%.1f", 100 * x / y }')%)"
  got=$(grep -F " → " "$TMP/$name.txt") || fail "$name: no ' → ' line in the report: $(cat "$TMP/$name.txt")"
  [[ $got == "$want" ]] || fail "$name: the report says '$got', want '$want'"
  want="wrote oci:$TMP/img:$name ($(image_digest "oci:$TMP/img:$name"))"
  [[ $(tail -1 "$TMP/$name.txt") == "$want" ]] || fail "$name: the report ends '$(tail -1 "$TMP/$name.txt")', want '$want'"
  ((x * 5 <= y)) || fail "$name: the slim image is $x bytes, more than a fifth of the original's $y"
  echo "ok: $name: $got"
}

# owners_kept NAME: each entry of image NAME that the original's root has
# (but /etc/passwd and /etc/group, which hold only the lines the user
# needs) has its owner and group there, and its mode (links but theirs).
owners_kept() {
  local path type uid gid mode want got bad="" n=0
  while IFS=$'\t' read -r path type uid gid mode; do
    [[ $path == /etc/passwd || $path == /etc/group ]] && continue
    [[ -e $R$path || -L $R$path ]] || continue
    if [[ $type == symlink ]]; then
      want=$(stat -c %u:%g "$R$path") got=$uid:$gid
    else
      want=$(stat -c %u:%g:%a "$R$path") got=$uid:$gid:$(printf %o "$mode")
    fi
    [[ $got == "$want" ]] || bad+=" $path ($got, the original's $want)"
    n=$((n + 1))
  done < <(jq -r '.files[] | [.path, .type, .uid, .gid, .mode] | @tsv' "$TMP/entries-$1.json")
  [[ -z $bad ]] || fail "$1: owners or modes differ from the original's:$bad"
  echo "ok: $1: $n entries keep the original's owners and modes"
}

# in_image NAME PATH: PATH leads to a regular file in image NAME.
in_image() {
  local p
  p=$(image_resolve "$1" "$2") || fail "$1: $2 is not in the image (or a link of its chain is missing)"
  [[ $(image_type "$1" "$p") == file ]] || fail "$1: $2 leads to $p, not a file"
}
# not_in_image NAME PATH: PATH does not lead to anything in image NAME.
not_in_image() { ! image_resolve "$1" "$2" >/dev/null || fail "$1: $2 is in the image"; }

image_entries src "oci:$L:app"
pylib=$(jq -r '.files[].path' "$TMP/entries-src.json" | grep -E '^/usr/lib/python3\.[0-9]+/os\.py$' | head -1)
pylib=${pylib%/os.py}
[[ -n $pylib ]] || fail "the benchmark image has no /usr/lib/python3.*/os.py"
# The _decimal extension, by name (the ABI tag is the source's).
decimal_ext=$(jq -r '.files[].path' "$TMP/entries-src.json" | grep -E "^$pylib/lib-dynload/_decimal\.cpython-[^/]*\.so\$" | head -1)
[[ -n $decimal_ext ]] || fail "the benchmark image has no _decimal extension"

# --- a. A Python app: WorkingDir, Env, a data file, the rest of the config -----
slim app app
probe_line app "exit 0"
same_config app app
report_ok app app
owners_kept app
in_image app /srv/app.py
in_image app /srv/data.txt
in_image app "$pylib/json/__init__.py"
for d in /srv /data; do # WorkingDir, and the volume
  [[ $(image_type app "$(image_resolve app "$d")") == dir ]] || fail "app: $d is not a directory in the image"
done
not_in_image app "$decimal_ext" # only what the run imported
orig_bundle app app
same_run app
grep -qxF "hello, world: read from data.txt" <<<"$RUN_OUT" || fail "app: printed $RUN_OUT"

# --probe ARGS replaces Cmd, as `docker run IMAGE ARGS` does: app.py decimal
# imports decimal, and the image can then run it.
slim app_decimal app --probe decimal
probe_line app_decimal "exit 0" decimal
in_image app_decimal "$decimal_ext"
orig_bundle app_decimal app
same_run app_decimal /usr/bin/python3 /srv/app.py decimal
grep -qxF "0.1428571428571428571428571429" <<<"$RUN_OUT" || fail "app_decimal: printed $RUN_OUT"

# --report json: binary's report, with the source and both sizes; the same
# image again (same digest).
"$DSLIM" image "oci:$L:app" --report json -o "oci:$TMP/img:app_json" >"$TMP/app.json" 2>"$TMP/app_json.err" ||
  fail "dslim image --report json failed: $(cat "$TMP/app_json.err")"
jq -e . "$TMP/app.json" >/dev/null || fail "the json report is not JSON: $(head -c 300 "$TMP/app.json")"
# check JQ: JQ is true of the report; $src, $src_bytes, $out, $out_bytes
# and $digest are what it should say.
check() {
  jq -e --arg src "oci:$L:app" --argjson src_bytes "$(image_bytes "oci:$L:app")" \
    --arg out "oci:$TMP/img:app_json" --argjson out_bytes "$(image_bytes "oci:$TMP/img:app_json")" \
    --arg digest "$(image_digest "oci:$TMP/img:app")" "$1" "$TMP/app.json" >/dev/null ||
    fail "json report: $1 is false: $(jq -c 'del(.files) | .probes |= map(del(.added))' "$TMP/app.json")"
}
check '.source == {ref: $src, image_bytes: $src_bytes}'
check '.totals.image_bytes == $out_bytes'
check '.output == $out'
check '.manifest_digest == $digest'
check '.probes | length == 1 and .[0].status == 0'
check '[.files[].path] | index("/srv/app.py") and index("/srv/data.txt")'
check '(.inferred | type) == "array" and (.symbols | type) == "array" and (.warnings | type) == "array"'
check '.totals.files > 0'
echo "ok: app: the json report has the source, the sizes and the probe; the same digest again"

# --- f. --no-probe: the static closure and the program's file arguments ------
slim app_static app --no-probe
! grep -q '^probe ' "$TMP/app_static.txt" || fail "app_static: a probe line with --no-probe: $(grep '^probe ' "$TMP/app_static.txt")"
same_config app_static app
report_ok app_static app
in_image app_static /usr/bin/python3
in_image app_static /srv/app.py # an absolute path of a file among the arguments
not_in_image app_static "$pylib/json/__init__.py" # nothing ran to import it
static_bytes=$(image_bytes "oci:$TMP/img:app_static") probed_bytes=$(image_bytes "oci:$TMP/img:app")
((static_bytes < probed_bytes)) || fail "app_static: $static_bytes bytes, not less than the probed image's $probed_bytes"
echo "ok: app_static: --no-probe keeps the closure and /srv/app.py, no standard library"

# --- b. Shell form: the shell runs two programs the config does not name -----
slim sh sh
probe_line sh "exit 0"
same_config sh sh
report_ok sh sh
owners_kept sh
for p in /bin/sh /usr/bin/basename /bin/date; do in_image sh "$p"; done
not_in_image sh /usr/bin/ls
orig_bundle sh sh
same_run sh
[[ $RUN_OUT == $'start\nc\n1970' ]] || fail "sh: printed $RUN_OUT"
# With no Entrypoint, --probe ARGS is the whole command.
slim sh_probe sh --probe "/usr/bin/basename /x/y"
probe_line sh_probe "exit 0" "/usr/bin/basename /x/y"
in_image sh_probe /usr/bin/basename
not_in_image sh_probe /usr/bin/date
echo "ok: sh_probe: --probe ARGS ran ARGS, not the Cmd"

# --- c. nginx -t: a bare name on PATH; owners kept (www-data's logs) ---------
slim nginx nginx
probe_line nginx "exit 0"
same_config nginx nginx
report_ok nginx nginx
owners_kept nginx
in_image nginx /usr/sbin/nginx
in_image nginx /etc/nginx/nginx.conf
# The log nginx -t opens: www-data's (uid 33) in the source, and in the image.
in_image nginx /var/log/nginx/error.log
[[ $(jq '.files[] | select(.path == "/var/log/nginx/error.log") | .uid' "$TMP/entries-nginx.json") == \
  "$(stat -c %u "$R/var/log/nginx/error.log")" ]] || fail "nginx: error.log's owner is not the source's"
for d in /var/lib/nginx /var/log/nginx; do
  [[ $(image_type nginx "$(image_resolve nginx "$d")") == dir ]] || fail "nginx: $d is not a directory in the image"
done
orig_bundle nginx nginx
# With the capabilities docker gives (nginx -t as root chowns its temporary directories).
bundle_docker_caps "$TMP/orig-nginx"
bundle_docker_caps "$TMP/bundle-nginx"
same_run nginx
[[ -z $RUN_OUT ]] || fail "nginx: nginx -t printed on stdout: $RUN_OUT"
for line in "nginx: the configuration file /etc/nginx/nginx.conf syntax is ok" \
  "nginx: configuration file /etc/nginx/nginx.conf test is successful"; do
  grep -qxF "$line" <<<"$ORIG_ERR" || fail "nginx: the original did not say '$line': $ORIG_ERR"
  grep -qxF "$line" <<<"$SLIM_ERR" || fail "nginx: the slim image did not say '$line': $SLIM_ERR"
done
[[ $(grep '^nginx: ' <<<"$SLIM_ERR") == "$(grep '^nginx: ' <<<"$ORIG_ERR")" ]] ||
  fail "nginx: stderr differs: $SLIM_ERR; the original's: $ORIG_ERR"
echo "ok: nginx -t succeeds in the slim image as in the original"

# --- d. User nobody: its passwd and group lines come ------------------------
slim nobody nobody
probe_line nobody "exit 0"
same_config nobody nobody
report_ok nobody nobody
owners_kept nobody
# (umoci unpack above already looked nobody up in the image's /etc/passwd.)
passwd=$TMP/bundle-nobody/rootfs$(image_resolve nobody /etc/passwd) || fail "nobody: no /etc/passwd"
group=$TMP/bundle-nobody/rootfs$(image_resolve nobody /etc/group) || fail "nobody: no /etc/group"
# The image's own lines: nobody's, and its group's (Debian's is nogroup).
want=$(grep '^nobody:' "$R/etc/passwd") got=$(grep '^nobody:' "$passwd") ||
  fail "nobody: /etc/passwd has no line for nobody: $(cat "$passwd")"
[[ $got == "$want" ]] || fail "nobody: /etc/passwd says '$got', the original '$want'"
want=$(awk -F: '$3 == 65534' "$R/etc/group") got=$(awk -F: '$3 == 65534' "$group")
[[ $got == "$want" ]] || fail "nobody: /etc/group's line for gid 65534 is '$got', the original's '$want'"
orig_bundle nobody nobody
same_run nobody
[[ $RUN_OUT == 65534 ]] || fail "nobody: printed $RUN_OUT, want 65534"

# --- --probe-http: the server of the Cmd is asked, then stopped --------------
slim web web --probe-http 8080/data.txt
[[ $(grep -c '^probe ' "$TMP/web.txt") -eq 1 ]] || fail "web: want one probe line: $(grep '^probe ' "$TMP/web.txt")"
same_config web web
in_image web "$pylib/http/server.py"
# Under runc, in this machine's network namespace on a free port, it serves data.txt.
bundle_host_network "$TMP/bundle-web"
port=$(free_port)
start_bundle "$TMP/bundle-web" /usr/bin/python3 /srv/app.py serve "$port"
for ((i = 0; i < 100; i++)); do
  grep -qxF "listening on 127.0.0.1:$port" "$TMP/bg.out" && break
  [[ $(bundle_status) == running ]] || fail "web: stopped under runc: $(cat "$TMP/bg.out" "$TMP/bg.err")"
  sleep 0.1
done
resp=$(http_get "$port" /data.txt) || fail "web: cannot connect to 127.0.0.1:$port: $(cat "$TMP/bg.out" "$TMP/bg.err")"
stop_bundle
[[ $(head -1 <<<"$resp" | tr -d '\r') == "HTTP/1.0 200 OK" && $(sed '1,/^\r$/d' <<<"$resp") == "read from data.txt" ]] ||
  fail "web: GET /data.txt under runc answered: $resp"
echo "ok: web: --probe-http brought http.server, and the image serves data.txt"

# --- At the timeout the image's StopSignal, not SIGTERM ----------------------
slim stop stop --probe-timeout 1
probe_line stop "killed at the timeout"
# What the program did at SIGINT (SIGTERM it ignores, SIGKILL ends it).
in_image stop /etc/issue.net
in_image stop /usr/bin/cat
echo "ok: stop: the probe was stopped by the image's StopSignal"

# --- e. Refusals: nothing written --------------------------------------------
expect_exit 2 "$DSLIM" image "oci:$L:missing" -o "oci:$TMP/missing:t"
[[ $E2E_STDERR == *"/usr/bin/does-not-exist"* && $E2E_STDERR == *"oci:$L:missing"* ]] ||
  fail "missing: the error names not both the program and the image: $E2E_STDERR"
[[ ! -e $TMP/missing ]] || fail "missing: something was written"
expect_exit 2 "$DSLIM" image "oci:$L:base" -o "oci:$TMP/nocmd:t" # neither Entrypoint nor Cmd
[[ ! -e $TMP/nocmd ]] || fail "nocmd: something was written"
expect_exit 3 "$DSLIM" image "oci:$L:app" --no-probe --max-size 1MB -o "oci:$TMP/big:t" # 4.2 MB
[[ ! -e $TMP/big ]] || fail "big: something was written over --max-size"

# --- g. A dir: source is for `dslim binary --pick` ---------------------------
expect_exit 1 "$DSLIM" image dir:/ -o "oci:$TMP/dir:t"
[[ $E2E_STDERR == *"binary --pick"* ]] || fail "dir: the error does not point at binary --pick: $E2E_STDERR"
[[ ! -e $TMP/dir ]] || fail "dir: something was written"
