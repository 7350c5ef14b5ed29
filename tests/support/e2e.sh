# Shared helpers for the end-to-end tests (sourced, not run).
# shellcheck shell=bash
set -euo pipefail
: "${DSLIM:?DSLIM must point at the built dslim}"

fail() { echo "FAIL: $*" >&2; exit 1; }

# A tool the test needs: under CI a missing tool fails; elsewhere the test is skipped.
need() {
  for tool in "$@"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      [[ -n "${CI:-}" ]] && fail "$tool is required under CI (scripts/bootstrap installs it)"
      echo "SKIP: $tool not installed"; exit 0
    fi
  done
}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/dslim-e2e-XXXXXX")
# Commands run on exit before $TMP goes (e.g. `runc delete -f ID`).
E2E_CLEANUP=()
e2e_cleanup() {
  local c
  for c in "${E2E_CLEANUP[@]}"; do eval "$c" >/dev/null 2>&1 || true; done
  rm -rf "$TMP"
}
trap e2e_cleanup EXIT
# dslim's layer cache stays inside the test's own directory.
export XDG_CACHE_HOME=$TMP/cache

# --- a second root filesystem, older than this machine (scripts/make-test-root) ---

# test_root NAME: sets TEST_ROOT to the path of root NAME (bullseye: Debian 11,
# glibc 2.31) and prints it, building it first if needed (about a minute, as
# root, from deb.debian.org). One copy per ${DSLIM_TEST_ROOTS:-$DSLIM_SOURCE_DIR/build/test-roots},
# shared by build/ and build-asan/ and by tests running at once. Under CI a
# root that cannot be built fails the test; elsewhere a missing debootstrap
# or not being root skips it. Call it directly (`test_root bullseye; r=$TEST_ROOT`),
# not in $(...), so that a skip ends the test.
test_root() {
  local name=$1 dir skip=""
  : "${DSLIM_SOURCE_DIR:?DSLIM_SOURCE_DIR must point at the source tree}"
  dir=${DSLIM_TEST_ROOTS:-$DSLIM_SOURCE_DIR/build/test-roots}/$name
  if [[ ! -f $dir/.dslim-root-complete ]]; then
    if ! command -v debootstrap >/dev/null 2>&1; then
      skip="debootstrap not installed (scripts/bootstrap installs it)"
    elif [[ $(id -u) -ne 0 ]]; then
      skip="building the $name test root needs root"
    fi
    if [[ -n $skip ]]; then
      [[ -n "${CI:-}" ]] && fail "test root $name: $skip (required under CI)"
      ((BASH_SUBSHELL == 0)) || fail "test root $name: $skip (call test_root directly, not in \$(...), to skip)"
      echo "SKIP: test root $name: $skip"
      exit 0
    fi
  fi
  TEST_ROOT=$("$DSLIM_SOURCE_DIR/scripts/make-test-root" "$name" "$dir") ||
    fail "scripts/make-test-root $name $dir failed"
  echo "$TEST_ROOT"
}

# need_release FILE: a file scripts/release makes, for the release tests
# (ctest label "release", which scripts/test runs after it). Missing, it
# fails the test under CI and skips it elsewhere. Call it directly, not in
# $(...), so that a skip ends the test.
need_release() {
  [[ -e $1 ]] && return 0
  [[ -n "${CI:-}" ]] && fail "$1 does not exist: run scripts/release first"
  echo "SKIP: $1 does not exist (run scripts/release)"
  exit 0
}

# --- the benchmark image, a multi-layer Debian source (scripts/make-bench-image) ---

# test_image: sets TEST_IMAGE to the directory of the benchmark image (Debian
# bookworm minbase, then curl, nginx-light, redis-server, python3 in a second
# layer: oci:$TEST_IMAGE/layout:bench, oci-archive:$TEST_IMAGE/bench.tar) and
# prints it, building it first if needed (minutes, as root, from
# deb.debian.org). One copy per ${DSLIM_BENCH_IMAGE:-$DSLIM_SOURCE_DIR/build/bench-image},
# made once (complete when bench.tar exists; concurrent callers wait on its
# lock). Under CI an image that cannot be built fails the test; elsewhere
# not being root, or a failed build (no network, say), skips it. Call it
# directly (`test_image; img=$TEST_IMAGE`), not in $(...), so that a skip ends the test.
test_image() {
  local dir skip=""
  : "${DSLIM_SOURCE_DIR:?DSLIM_SOURCE_DIR must point at the source tree}"
  dir=${DSLIM_BENCH_IMAGE:-$DSLIM_SOURCE_DIR/build/bench-image}
  if [[ ! -f $dir/bench.tar || ! -f $dir/layout/index.json ]]; then
    if [[ $(id -u) -ne 0 ]]; then
      skip="building the benchmark image needs root"
    elif ! "$DSLIM_SOURCE_DIR/scripts/make-bench-image" "$dir" >"$TMP/bench-image.log" 2>&1; then
      skip="scripts/make-bench-image $dir failed: $(tail -3 "$TMP/bench-image.log" | tr '\n' ' ')"
    elif [[ ! -f $dir/layout/index.json ]]; then
      skip="scripts/make-bench-image $dir wrote no layout"
    fi
    if [[ -n $skip ]]; then
      [[ -n "${CI:-}" ]] && fail "benchmark image: $skip (required under CI)"
      ((BASH_SUBSHELL == 0)) || fail "benchmark image: $skip (call test_image directly, not in \$(...), to skip)"
      echo "SKIP: benchmark image: $skip"
      exit 0
    fi
  fi
  TEST_IMAGE=$dir
  echo "$TEST_IMAGE"
}

# --- helpers for the image tests (binary_*.sh, inspect_*.sh) ---

# Skopeo needs a policy; the machine may have none (/etc/containers/policy.json).
E2E_POLICY=$TMP/policy.json
echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$E2E_POLICY"
skopeo_() { skopeo --policy "$E2E_POLICY" "$@"; }

# The image's manifest digest as skopeo sees it: image_digest REF
image_digest() { skopeo_ inspect "$1" | jq -r .Digest; }

# Unpack an oci:DIR:TAG image into a runc bundle with a non-terminal process:
# unpack_bundle DIR:TAG BUNDLE
unpack_bundle() {
  local image=$1 bundle=$2
  umoci --log error unpack --image "$image" "$bundle" >/dev/null || fail "umoci unpack $image failed"
  jq '.process.terminal = false' "$bundle/config.json" >"$bundle/config.json.new" &&
    mv "$bundle/config.json.new" "$bundle/config.json"
}

# Sets a bundle's process.args: bundle_args BUNDLE ARGS... (each ARGS a
# string as is, even one starting with `-`, which jq --args would take for
# one of its options).
bundle_args() {
  local bundle=$1 a args="[]"; shift
  for a in "$@"; do args=$(jq -c --arg a "$a" '. + [$a]' <<<"$args"); done
  jq --argjson args "$args" '.process.args = $args' "$bundle/config.json" >"$bundle/config.json.new" &&
    mv "$bundle/config.json.new" "$bundle/config.json"
}

# Run a bundle with runc under a unique id (always deleted); prints the
# program's stdout, its stderr goes to $TMP/run.err; returns the program's status.
# run_bundle BUNDLE [ARGS...]  (ARGS, if any, replace process.args)
E2E_RUNC_ROOT=$TMP/runc
run_bundle() {
  local bundle=$1; shift
  (($# == 0)) || bundle_args "$bundle" "$@"
  local id="dslim-e2e-$$-$RANDOM$RANDOM"
  E2E_CLEANUP+=("runc --root '$E2E_RUNC_ROOT' delete -f '$id'")
  local rc=0
  (cd "$bundle" && timeout 60 runc --root "$E2E_RUNC_ROOT" run "$id" </dev/null 2>"$TMP/run.err") || rc=$?
  runc --root "$E2E_RUNC_ROOT" delete -f "$id" >/dev/null 2>&1 || true
  return $rc
}

# Starts a bundle in the background, for a program that does not exit (a
# server): `runc run -d` with its stdout in $TMP/bg.out and its stderr (and
# runc's) in $TMP/bg.err; BG_ID is its runc id, deleted on exit or by
# stop_bundle. start_bundle BUNDLE [ARGS...]  (ARGS, if any, replace process.args)
start_bundle() {
  local bundle=$1; shift
  (($# == 0)) || bundle_args "$bundle" "$@"
  BG_ID="dslim-e2e-$$-$RANDOM$RANDOM"
  E2E_CLEANUP+=("runc --root '$E2E_RUNC_ROOT' delete -f '$BG_ID'")
  (cd "$bundle" && runc --root "$E2E_RUNC_ROOT" run -d "$BG_ID" </dev/null >"$TMP/bg.out" 2>"$TMP/bg.err") ||
    fail "runc run -d $bundle failed: $(cat "$TMP/bg.err")"
}

# The status runc gives the container of start_bundle: running, stopped, ...
bundle_status() { runc --root "$E2E_RUNC_ROOT" state "$BG_ID" 2>/dev/null | jq -r .status; }

# Kills (SIGKILL) and deletes the container of start_bundle.
stop_bundle() { runc --root "$E2E_RUNC_ROOT" delete -f "$BG_ID" >/dev/null 2>&1 || true; }

# Gives a bundle's process the capabilities docker and podman give a
# container by default (umoci's config has only AUDIT_WRITE, KILL,
# NET_BIND_SERVICE; nginx -t as root chowns its temporary directories).
# bundle_docker_caps BUNDLE
bundle_docker_caps() {
  local caps='["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FSETID","CAP_FOWNER","CAP_MKNOD","CAP_NET_RAW","CAP_SETGID",
    "CAP_SETUID","CAP_SETFCAP","CAP_SETPCAP","CAP_NET_BIND_SERVICE","CAP_SYS_CHROOT","CAP_KILL","CAP_AUDIT_WRITE"]'
  jq --argjson c "$caps" '.process.capabilities = {bounding: $c, effective: $c, permitted: $c}' \
    "$1/config.json" >"$1/config.json.new" && mv "$1/config.json.new" "$1/config.json"
}

# Runs a bundle in this machine's network namespace, so that a server in it
# can be reached on 127.0.0.1 here. bundle_host_network BUNDLE
bundle_host_network() {
  jq '.linux.namespaces |= map(select(.type != "network"))' "$1/config.json" >"$1/config.json.new" &&
    mv "$1/config.json.new" "$1/config.json"
}

# A TCP port of 127.0.0.1 that nothing listens on.
free_port() {
  local p i
  for ((i = 0; i < 100; i++)); do
    p=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  fail "no free port"
}

# http_get PORT PATH: prints the whole response (HTTP/1.0) of 127.0.0.1:PORT.
http_get() {
  local fd
  exec {fd}<>"/dev/tcp/127.0.0.1/$1" || return 1
  printf 'GET %s HTTP/1.0\r\n\r\n' "$2" >&"$fd"
  cat <&"$fd"
  exec {fd}<&-
}

# The entries of an image (`dslim inspect --format json`), for image_type,
# image_target and image_resolve: image_entries NAME IMAGE_REF
declare -gA E2E_TYPE=() E2E_TARGET=()
image_entries() {
  local name=$1 path type target
  "$DSLIM" inspect "$2" --format json >"$TMP/entries-$name.json" || fail "dslim inspect $2 failed"
  while IFS=$'\t' read -r path type target; do
    E2E_TYPE[$name:$path]=$type
    E2E_TARGET[$name:$path]=$target
  done < <(jq -r '.files[] | [.path, .type, (.target // "")] | @tsv' "$TMP/entries-$name.json")
}
# image_type NAME PATH: file, dir, symlink, ... or nothing when absent (the
# entry itself, no link followed). image_target NAME PATH: a link's target.
image_type() { echo "${E2E_TYPE[$1:$2]-}"; }
image_target() { echo "${E2E_TARGET[$1:$2]-}"; }

# resolve_with LOOKUP PATH: the path PATH leads to inside a root, following
# its symlinks as the kernel would in a container (absolute targets from the
# root, `..` stopping at /); returns 1 when a component is missing or after
# 40 links. `LOOKUP P` describes the root's entry P (a physical path) in
# LOOKUP_KIND (empty: missing; symlink; anything else) and LOOKUP_TARGET.
resolve_with() {
  local lookup=$1 rest=${2#/} out="" comp links=0
  while [[ -n $rest ]]; do
    comp=${rest%%/*}
    if [[ $rest == */* ]]; then rest=${rest#*/}; else rest=""; fi
    case $comp in
      "" | .) continue ;;
      ..) out=${out%/*}; continue ;;
    esac
    "$lookup" "$out/$comp"
    [[ -n $LOOKUP_KIND ]] || return 1
    if [[ $LOOKUP_KIND == symlink ]]; then
      ((++links <= 40)) || return 1
      [[ $LOOKUP_TARGET == /* ]] && out=""
      rest=${LOOKUP_TARGET#/}${rest:+/$rest}
    else
      out=$out/$comp
    fi
  done
  echo "${out:-/}"
}

# image_resolve NAME PATH: resolve_with over image NAME's entries.
image_resolve() {
  E2E_LOOKUP_IMAGE=$1
  resolve_with image_lookup "$2"
}
image_lookup() {
  LOOKUP_KIND=${E2E_TYPE[$E2E_LOOKUP_IMAGE:$1]-}
  LOOKUP_TARGET=${E2E_TARGET[$E2E_LOOKUP_IMAGE:$1]-}
}

# The whole round trip for an image written to oci:DIR:TAG: skopeo can read it,
# umoci unpacks it, runc runs it and it prints EXPECTED (a line of its stdout).
# expect_runs DIR:TAG EXPECTED [ARGS...]
expect_runs() {
  local image=$1 expected=$2; shift 2
  skopeo_ inspect "oci:$image" >/dev/null || fail "skopeo cannot read oci:$image"
  local bundle
  bundle=$(mktemp -d "$TMP/bundle-XXXXXX")
  rmdir "$bundle"
  unpack_bundle "$image" "$bundle"
  local out rc=0
  out=$(run_bundle "$bundle" "$@") || rc=$?
  ((rc == 0)) || fail "$image: runc run exited $rc; stdout: $out; stderr: $(cat "$TMP/run.err")"
  grep -qxF -- "$expected" <<<"$out" || fail "$image: expected '$expected', got: $out"
  echo "ok: $image prints '$expected'"
}

# A failing dslim run: exit code CODE, exactly one line on stderr.
# expect_exit CODE COMMAND...   (sets E2E_STDERR to that line)
expect_exit() {
  local want=$1; shift
  local rc=0
  "$@" >"$TMP/cmd.out" 2>"$TMP/cmd.err" || rc=$?
  E2E_STDERR=$(cat "$TMP/cmd.err")
  ((rc == want)) || fail "expected exit $want, got $rc from: $* ; stderr: $E2E_STDERR"
  local lines
  lines=$(wc -l <"$TMP/cmd.err")
  [[ $lines -eq 1 && -n $E2E_STDERR ]] || fail "expected one stderr line from: $*; got $lines: $E2E_STDERR"
  echo "ok: exit $want: $E2E_STDERR"
}

# --- AArch64 programs through qemu-user (binfmt_misc) ---

# Registering an interpreter is a change to this machine's kernel: what these
# helpers change is undone when the test ends. As root only.
BINFMT=/proc/sys/fs/binfmt_misc
QEMU_AARCH64_CONF=/usr/lib/binfmt.d/qemu-aarch64.conf
_qemu_mounted="" _qemu_registered="" _qemu_disabled=""
_qemu_restore() {
  [[ -n $_qemu_registered && -e $BINFMT/qemu-aarch64 ]] && echo -1 >"$BINFMT/qemu-aarch64"
  [[ -n $_qemu_disabled && -e $BINFMT/qemu-aarch64 ]] && echo 1 >"$BINFMT/qemu-aarch64"
  [[ -z $_qemu_mounted ]] || umount "$BINFMT"
}

# binfmt_setup: binfmt_misc mounted; skips (fails under CI) when not root.
binfmt_setup() {
  need qemu-aarch64-static
  if [[ $(id -u) -ne 0 ]]; then
    [[ -n ${CI:-} ]] && fail "registering qemu-user with binfmt_misc needs root (CI runs as root)"
    echo "SKIP: registering qemu-user with binfmt_misc needs root"
    exit 0
  fi
  [[ -f $QEMU_AARCH64_CONF ]] || fail "no $QEMU_AARCH64_CONF (qemu-user-static installs it)"
  E2E_CLEANUP=("_qemu_restore" "${E2E_CLEANUP[@]}")
  if [[ ! -e $BINFMT/register ]]; then
    mount -t binfmt_misc binfmt_misc "$BINFMT" || fail "cannot mount binfmt_misc on $BINFMT"
    _qemu_mounted=1
  fi
}

# qemu_aarch64 on|off: AArch64 programs run through qemu-user, registered with
# the F flag as Debian registers it (the kernel keeps the interpreter open,
# so a container's root needs none), or do not run at all.
qemu_aarch64() {
  if [[ $1 == off ]]; then
    if [[ -e $BINFMT/qemu-aarch64 ]] && grep -q '^enabled' "$BINFMT/qemu-aarch64"; then
      echo 0 >"$BINFMT/qemu-aarch64"
      [[ -n $_qemu_registered ]] || _qemu_disabled=1
    fi
  elif [[ -e $BINFMT/qemu-aarch64 ]]; then
    grep -q '^flags: .*F' "$BINFMT/qemu-aarch64" || fail "the existing qemu-aarch64 entry lacks the F flag"
    echo 1 >"$BINFMT/qemu-aarch64"
    _qemu_disabled=""
  else
    grep -v '^#' "$QEMU_AARCH64_CONF" | head -1 | tr -d '\n' >"$BINFMT/register" ||
      fail "cannot register $QEMU_AARCH64_CONF"
    _qemu_registered=1
  fi
}

# --- a real registry for the docker:// tests ---

# Starts Debian's docker-registry on 127.0.0.1 on a free port, with its own
# storage; it is killed on exit. Exports REGISTRY (127.0.0.1:PORT),
# REGISTRY_PORT, REGISTRY_PID and REGISTRY_DIR (config.yml, storage/, registry.log).
# start_registry [--htpasswd FILE] [--tls CERT KEY]
start_registry() {
  need docker-registry python3
  local htpasswd="" cert="" key=""
  while (($#)); do
    case $1 in
      --htpasswd) htpasswd=$2; shift 2 ;;
      --tls) cert=$2 key=$3; shift 3 ;;
      *) fail "start_registry: unknown option $1" ;;
    esac
  done
  REGISTRY_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  REGISTRY=127.0.0.1:$REGISTRY_PORT
  REGISTRY_DIR=$(mktemp -d "$TMP/registry-XXXXXX")
  export REGISTRY REGISTRY_PORT REGISTRY_DIR
  {
    printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n'
    printf 'storage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\n' "$REGISTRY_DIR/storage"
    printf 'http:\n  addr: %s\n  secret: dslim-e2e\n' "$REGISTRY"
    if [[ -n $cert ]]; then printf '  tls:\n    certificate: %s\n    key: %s\n' "$cert" "$key"; fi
    if [[ -n $htpasswd ]]; then printf 'auth:\n  htpasswd:\n    realm: dslim-e2e\n    path: %s\n' "$htpasswd"; fi
  } >"$REGISTRY_DIR/config.yml"
  restart_registry
}

# Starts the registry of start_registry again (same port, config and storage).
# Its environment is only PATH: REGISTRY_* variables would reconfigure it.
restart_registry() {
  env -i PATH="$PATH" docker-registry serve "$REGISTRY_DIR/config.yml" >>"$REGISTRY_DIR/registry.log" 2>&1 &
  REGISTRY_PID=$!
  export REGISTRY_PID
  E2E_CLEANUP+=("kill -9 $REGISTRY_PID")
  local i
  for ((i = 0; i < 200; i++)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$REGISTRY_PORT") 2>/dev/null; then return 0; fi
    kill -0 "$REGISTRY_PID" 2>/dev/null || break
    sleep 0.05
  done
  fail "docker-registry did not start: $(cat "$REGISTRY_DIR/registry.log")"
}

# Kills the registry the way a crash does (SIGKILL).
stop_registry() {
  kill -9 "$REGISTRY_PID" 2>/dev/null || true
  wait "$REGISTRY_PID" 2>/dev/null || true
}

# A throwaway CA and a server certificate it signed for 127.0.0.1 and
# localhost: DIR/ca.crt, DIR/server.crt, DIR/server.key.  make_test_ca DIR
make_test_ca() {
  need openssl
  local dir=$1
  mkdir -p "$dir"
  (
    cd "$dir"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=dslim-test-ca -keyout ca.key -out ca.crt
    openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server.key -out server.csr
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >san.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext -out server.crt
  ) >/dev/null 2>&1 || fail "make_test_ca: openssl failed"
}

# --- a small layered source image for the cache, platform and registry tests ---

# fixture_layout DIR: an OCI layout with tag v1 (the loader, libc, the program
# /opt/x/bin/app and its libx chain) and tag v2 (v1 with libx deleted by a
# whiteout layer).
fixture_layout() {
  local L=$1 w
  w=$(mktemp -d "$TMP/fixture-XXXXXX")
  umoci --log error init --layout "$L"
  umoci --log error new --image "$L:base"
  umoci --log error unpack --image "$L:base" "$w/b1"
  local r=$w/b1/rootfs
  mkdir -p "$r/lib64" "$r/lib/x86_64-linux-gnu" "$r/opt/x/bin" "$r/opt/x/lib"
  cp -L /lib64/ld-linux-x86-64.so.2 "$r/lib64/"
  cp -L /lib/x86_64-linux-gnu/libc.so.6 "$r/lib/x86_64-linux-gnu/"
  cp "$DSLIM_FIXTURE_DIR/bin/app_runpath" "$r/opt/x/bin/app"
  cp "$DSLIM_FIXTURE_DIR/lib/libx.so.1.2.3" "$r/opt/x/lib/"
  ln -s libx.so.1.2.3 "$r/opt/x/lib/libx.so.1"
  umoci --log error repack --image "$L:v1" "$w/b1"
  umoci --log error unpack --image "$L:v1" "$w/b2"
  rm "$w/b2/rootfs/opt/x/lib/libx.so.1.2.3"
  umoci --log error repack --image "$L:v2" "$w/b2"
}

# The index.json descriptor of tag TAG in layout DIR, without annotations.
layout_desc() {
  jq -c --arg t "$2" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]==$t) | del(.annotations)' "$1/index.json"
}

# fixture_index DIR MANIFESTS_JSON: adds tag "multi", an image index holding
# MANIFESTS_JSON (a jq array of descriptors with platforms), to layout DIR.
fixture_index() {
  local L=$1 idx
  jq -n --argjson m "$2" '{schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json", manifests: $m}' >"$TMP/index.json"
  idx=$(sha256sum "$TMP/index.json" | cut -d' ' -f1)
  cp "$TMP/index.json" "$L/blobs/sha256/$idx"
  jq --arg d "sha256:$idx" --argjson s "$(stat -c %s "$TMP/index.json")" \
    '.manifests += [{mediaType: "application/vnd.oci.image.index.v1+json", digest: $d, size: $s,
                     annotations: {"org.opencontainers.image.ref.name": "multi"}}]' \
    "$L/index.json" >"$TMP/top.json" && mv "$TMP/top.json" "$L/index.json"
}

# --- images with a command of their own, for `dslim image` (image_*.sh, scripts/bench-image) ---

# The PATH docker and podman give a container whose image sets none: the
# benchmark image's config is empty, and runc looks a bare command up on it.
E2E_PATH_ENV=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# bench_layout DIR: a copy of the benchmark image's layout (call test_image
# first) in DIR with tag base: the benchmark image with that PATH and neither
# Entrypoint nor Cmd. A whole copy: umoci rewrites the layout it works on,
# and the shared image must stay as it is.
bench_layout() {
  local L=$1
  [[ -n ${TEST_IMAGE:-} ]] || fail "bench_layout: call test_image first"
  cp -r "$TEST_IMAGE/layout" "$L" || fail "cannot copy $TEST_IMAGE/layout to $L"
  umoci --log error config --image "$L:bench" --tag base --config.env "$E2E_PATH_ENV" ||
    fail "umoci config of $L:base failed"
}

# app_image DIR TAG: tag TAG of layout DIR (bench_layout): base plus a layer
# holding /srv/app.py (a Python program) and /srv/data.txt (uid 1000, gid 0,
# mode 0640: root reads it by its group, as runc's root has no
# CAP_DAC_OVERRIDE), with Entrypoint ["/usr/bin/python3","/srv/app.py"], Cmd
# ["world"], WorkingDir /srv, Env GREETING=hello, ExposedPorts 8080/tcp,
# Volumes /data, two Labels and StopSignal SIGINT. It prints GREETING, its
# arguments, data.txt (opened by a relative path: cwd must be /srv) and its
# cwd and uid; `app.py ARGS... decimal` also imports decimal (the _decimal
# extension and libmpdec); `app.py serve PORT` serves /srv over HTTP on
# 127.0.0.1:PORT until stopped. The layer is a tar made here and added by
# `umoci raw add-layer`: umoci insert (0.4.7) writes a tar cut short after
# the last file's data, without padding or end blocks.
app_image() {
  local L=$1 tag=$2 w
  w=$(mktemp -d "$TMP/app-XXXXXX")
  mkdir -m 0755 "$w/srv"
  cat >"$w/srv/app.py" <<'PY'
import json, os, sys

args = sys.argv[1:]
if args[:1] == ["serve"]:
    import functools, http.server
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory="/srv")
    server = http.server.HTTPServer(("127.0.0.1", int(args[1])), handler)
    print("listening on 127.0.0.1:" + args[1], flush=True)
    server.serve_forever()
with open("data.txt") as f:
    data = f.read().strip()
print("%s, %s: %s" % (os.environ.get("GREETING", "?"), " ".join(args), data))
if "decimal" in args:
    import decimal
    print(decimal.Decimal(1) / decimal.Decimal(7))
print(json.dumps({"cwd": os.getcwd(), "uid": os.getuid()}, sort_keys=True))
PY
  chmod 0644 "$w/srv/app.py"
  echo "read from data.txt" >"$w/srv/data.txt"
  # Owners set in the tar, not on disk (no chown: works without root).
  tar -C "$w" --numeric-owner --owner=0 --group=0 --mtime=@0 --no-recursion -cf "$w/srv.tar" srv srv/app.py ||
    fail "app_image: tar failed"
  tar -C "$w" --numeric-owner --owner=1000 --group=0 --mode=0640 --mtime=@0 -rf "$w/srv.tar" srv/data.txt ||
    fail "app_image: tar failed"
  umoci --log error raw add-layer --image "$L:base" --tag "$tag" "$w/srv.tar" || fail "umoci raw add-layer $L:$tag failed"
  umoci --log error config --image "$L:$tag" \
    --config.entrypoint /usr/bin/python3 --config.entrypoint /srv/app.py --config.cmd world \
    --config.workingdir /srv --config.env GREETING=hello --config.exposedports 8080/tcp --config.volume /data \
    --config.label org.opencontainers.image.title=app --config.label "com.example.note=two words" \
    --config.stopsignal SIGINT || fail "umoci config of $L:$tag failed"
  rm -rf "$w"
}
