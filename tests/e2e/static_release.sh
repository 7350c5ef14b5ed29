#!/usr/bin/env bash
# The release build (scripts/release, CMake DSLIM_STATIC): one static
# executable with no interpreter and no DT_NEEDED that runs `deps` and
# `binary` in any root: under runc in (a) a read-only root holding only
# dslim and (b) a musl root (musl's loader and dslim), each with no /tmp,
# no TMPDIR and the source bind-mounted; then registry pulls there, the host
# name looked up in /etc/hosts by c-ares (no NSS module to load) and TLS
# checked against --cert-dir, $SSL_CERT_FILE, or failing clearly with no CA.
#
# It needs scripts/release first (minutes): ctest label "release", which
# scripts/test runs after it. It tests $DSLIM_RELEASE, by default
# build/release/dslim of the source tree; without it, it fails under CI.
source "$(dirname "$0")/../support/e2e.sh"
SRC_DIR=${DSLIM_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
REL=${DSLIM_RELEASE:-$SRC_DIR/build/release/dslim}
need_release "$REL"
: "${DSLIM_FIXTURE_DIR:?DSLIM_FIXTURE_DIR must point at the built fixtures}"
need readelf umoci runc skopeo jq openssl docker-registry

# --- static: no interpreter, no DT_NEEDED ---
readelf -lW "$REL" | grep -q 'INTERP' && fail "$REL has a PT_INTERP"
readelf -dW "$REL" | grep -q '(NEEDED)' && fail "$REL has DT_NEEDED: $(readelf -dW "$REL" | grep NEEDED)"
version=$("$REL" --version) || fail "--version failed"
for want in static libcurl/ OpenSSL c-ares/ LIEF ISA-L libarchive zstd libdeflate; do
  grep -qF "$want" <<<"$version" || fail "--version does not name $want: $version"
done
echo "ok: static, --version names its libraries"

L=$TMP/layout
fixture_layout "$L"

# make_root DIR [musl]: a root with /dslim (and musl's loader), mount points
# for the source, the output and the certificates, and no /tmp.
make_root() {
  local root=$1
  mkdir -p "$root"/{proc,dev,sys,src,out,certs,etc}
  cp "$REL" "$root/dslim"
  : >"$root/etc/hosts"  # a mount point only: empty unless bind-mounted
  if [[ ${2:-} == musl ]]; then
    mkdir -p "$root/lib"
    cp -L /lib/ld-musl-x86_64.so.1 "$root/lib/" || fail "no musl loader (apt-get install musl)"
  fi
}

# make_bundle BUNDLE ROOT OUT: runc's default spec over ROOT, read-only, no
# terminal, an environment of PATH only (runc then sets HOME=/, on the
# read-only root), the layout at /src (read-only) and OUT at /out.
make_bundle() {
  local bundle=$1 root=$2 out=$3
  mkdir -p "$bundle" "$out"
  runc spec -b "$bundle"
  jq --arg root "$root" --arg src "$L" --arg out "$out" --arg certs "$TMP/ca" --arg hosts "$TMP/hosts" '
    .root = {path: $root, readonly: true}
    | .process.terminal = false | .process.env = ["PATH=/"] | .process.cwd = "/"
    | .mounts += [
        {destination: "/src", type: "bind", source: $src, options: ["rbind", "ro"]},
        {destination: "/out", type: "bind", source: $out, options: ["rbind", "rw"]},
        {destination: "/certs", type: "bind", source: $certs, options: ["rbind", "ro"]},
        {destination: "/etc/hosts", type: "bind", source: $hosts, options: ["rbind", "ro"]}]' \
    "$bundle/config.json" >"$bundle/config.json.new" && mv "$bundle/config.json.new" "$bundle/config.json"
}

# bundle_env BUNDLE VAR=VALUE...: the process environment is PATH and these.
bundle_env() {
  local bundle=$1; shift
  jq --args '.process.env = ["PATH=/"] + $ARGS.positional' "$@" <"$bundle/config.json" >"$bundle/config.json.new" &&
    mv "$bundle/config.json.new" "$bundle/config.json"
}

# A registry over TLS whose certificate names registry.dslim.test, a name
# only the roots' /etc/hosts knows.
mkdir -p "$TMP/ca"
(
  cd "$TMP/ca"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=dslim-release-ca -keyout ca.key -out ca.crt
  openssl req -newkey rsa:2048 -nodes -subj /CN=registry.dslim.test -keyout server.key -out server.csr
  printf 'subjectAltName=DNS:registry.dslim.test\n' >san.ext
  openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext -out server.crt
) >/dev/null 2>&1 || fail "openssl failed"
printf '127.0.0.1 registry.dslim.test\n' >"$TMP/hosts"
start_registry --tls "$TMP/ca/server.crt" "$TMP/ca/server.key"
skopeo_ copy -q --dest-tls-verify=false "oci:$L:v1" "docker://$REGISTRY/base:1" || fail "skopeo push failed"
REF=docker://registry.dslim.test:$REGISTRY_PORT/base:1

for kind in scratch musl; do
  root=$TMP/root-$kind
  make_root "$root" "$([[ $kind == musl ]] && echo musl)"
  B=$TMP/bundle-$kind
  O=$TMP/out-$kind
  make_bundle "$B" "$root" "$O"

  # deps, with HOME=/ unwritable: no cache, said once under -v.
  out=$(run_bundle "$B" /dslim -v deps --pick /opt/x/bin/app --from oci:/src:v1 --format list) ||
    fail "$kind: deps failed: $(cat "$TMP/run.err")"
  grep -qF /opt/x/lib/libx.so.1.2.3 <<<"$out" || fail "$kind: deps: $out"
  n=$(grep -c 'no cache directory' "$TMP/run.err" || true)
  [[ $n == 1 ]] || fail "$kind: want one line about the cache under -v, got $n: $(cat "$TMP/run.err")"

  # binary: the image it writes runs.
  run_bundle "$B" /dslim -q binary --pick /opt/x/bin/app --from oci:/src:v1 -o oci:/out/img:slim >/dev/null ||
    fail "$kind: binary failed: $(cat "$TMP/run.err")"
  expect_runs "$O/img:slim" "x=42"

  # The cache: --cache-dir, else $XDG_CACHE_HOME.
  run_bundle "$B" /dslim -q deps --pick /opt/x/bin/app --from oci:/src:v1 --cache-dir /out/cache >/dev/null ||
    fail "$kind: deps --cache-dir failed: $(cat "$TMP/run.err")"
  [[ -n $(ls -A "$O/cache/layers" 2>/dev/null) ]] || fail "$kind: --cache-dir /out/cache stayed empty"
  bundle_env "$B" XDG_CACHE_HOME=/out/xdg
  run_bundle "$B" /dslim -q deps --pick /opt/x/bin/app --from oci:/src:v1 >/dev/null ||
    fail "$kind: deps with XDG_CACHE_HOME failed: $(cat "$TMP/run.err")"
  [[ -n $(ls -A "$O/xdg/dslim" 2>/dev/null) ]] || fail "$kind: XDG_CACHE_HOME=/out/xdg stayed empty"

  # A registry by a name from /etc/hosts, in this machine's network.
  bundle_host_network "$B"
  bundle_env "$B"
  got=$(run_bundle "$B" /dslim -q deps --pick /opt/x/bin/app --from "$REF" --cert-dir /certs --format list) ||
    fail "$kind: pull with --cert-dir failed: $(cat "$TMP/run.err")"
  grep -qF /opt/x/lib/libx.so.1.2.3 <<<"$got" || fail "$kind: pull with --cert-dir: $got"
  bundle_env "$B" SSL_CERT_FILE=/certs/ca.crt
  run_bundle "$B" /dslim -q deps --pick /opt/x/bin/app --from "$REF" --format list >/dev/null ||
    fail "$kind: pull with SSL_CERT_FILE failed: $(cat "$TMP/run.err")"
  bundle_env "$B"
  rc=0
  run_bundle "$B" /dslim -q deps --pick /opt/x/bin/app --from "$REF" --format list >/dev/null || rc=$?
  ((rc == 4)) || fail "$kind: with no CA: exit $rc, want 4: $(cat "$TMP/run.err")"
  grep -q 'no CA certificates' "$TMP/run.err" || fail "$kind: with no CA: $(cat "$TMP/run.err")"
  echo "ok: $kind root: deps, binary, cache, registry by /etc/hosts name over TLS"
done

# On the host with no HOME, no TMPDIR, no XDG_CACHE_HOME: no cache, said once.
env -i "$REL" -v deps --pick /opt/x/bin/app --from "oci:$L:v1" --format list >"$TMP/host.out" 2>"$TMP/host.err" ||
  fail "deps with an empty environment failed: $(cat "$TMP/host.err")"
[[ $(grep -c 'no cache directory' "$TMP/host.err") == 1 ]] || fail "empty environment: want one line about the cache: $(cat "$TMP/host.err")"
echo "static_release: ok"
