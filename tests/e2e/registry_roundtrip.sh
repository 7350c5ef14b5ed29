#!/usr/bin/env bash
# docker:// end to end against real docker-registry instances on 127.0.0.1:
# pull by tag and digest, a multi-platform index, push of the slimmed image
# (then skopeo copy + umoci unpack + runc run of what was pushed), a warm
# pull fetching no blob, Basic auth by --creds and config.json, a wrong
# password, a stopped registry (exit 4, no tag left behind), TLS with a
# private CA through --cert-dir.
source "$(dirname "$0")/../support/e2e.sh"
need umoci runc skopeo jq htpasswd openssl
L=$TMP/layout

fixture_layout "$L"
# A multi-platform index: v1 for linux/amd64, v2 for linux/arm64/v8.
fixture_index "$L" "$(jq -n --argjson a "$(layout_desc "$L" v1)" --argjson b "$(layout_desc "$L" v2)" \
  '[($b + {platform: {os: "linux", architecture: "arm64", variant: "v8"}}),
    ($a + {platform: {os: "linux", architecture: "amd64"}})]')"

start_registry
R=$REGISTRY
skopeo_ copy -q --dest-tls-verify=false "oci:$L:v1" "docker://$R/base:1" || fail "skopeo push v1 failed"
skopeo_ copy -q --all --dest-tls-verify=false "oci:$L:multi" "docker://$R/multi:1" ||
  fail "skopeo push of the index failed"
digest=$(skopeo_ inspect --tls-verify=false "docker://$R/base:1" | jq -r .Digest)

deps() { "$DSLIM" deps --pick /opt/x/bin/app --format list "$@"; }
want=$(deps --from "oci:$L:v1") || fail "deps from the layout failed"
got=$(deps --from "docker://$R/base:1" 2>"$TMP/pull.err") || fail "pull by tag failed: $(cat "$TMP/pull.err")"
[[ $got == "$want" ]] || fail "pull by tag: $got"
got=$(deps --from "docker://$R/base@$digest" --no-cache) || fail "pull by digest failed"
[[ $got == "$want" ]] || fail "pull by digest: $got"
echo "ok: pull by tag and by digest"

# Warm: manifests only, not one blob GET.
"$DSLIM" -v deps --pick /opt/x/bin/app --format list --from "docker://$R/base:1" >/dev/null 2>"$TMP/warm.err" ||
  fail "warm pull failed"
grep -q "GET .*/manifests/1" "$TMP/warm.err" || fail "-v shows no manifest GET: $(cat "$TMP/warm.err")"
grep -q "GET .*/blobs/" "$TMP/warm.err" && fail "a warm pull fetched a blob: $(grep blobs "$TMP/warm.err")"
echo "ok: a second pull fetches no blob"

# The index: amd64 by default (from the ELF), arm64 on request.
deps --from "docker://$R/multi:1" >/dev/null || fail "index, default platform failed"
expect_exit 2 "$DSLIM" -q deps --pick /opt/x/bin/app --from "docker://$R/multi:1" --platform linux/arm64
[[ $E2E_STDERR == *libx.so.1* ]] || fail "arm64 should be v2, without libx: $E2E_STDERR"
echo "ok: an index gives the platform asked for"

# Push the slimmed image, then read and run it with independent tools.
out=$("$DSLIM" -q binary --pick /opt/x/bin/app --from "docker://$R/base:1" -o "docker://$R/team/app:1.4") ||
  fail "push failed"
pushed=$(skopeo_ inspect --tls-verify=false "docker://$R/team/app:1.4" | jq -r .Digest)
[[ $out == "$pushed" ]] || fail "dslim printed $out, the registry has $pushed"
skopeo_ copy -q --src-tls-verify=false "docker://$R/team/app:1.4" "oci:$TMP/pulled:1.4" || fail "skopeo pull failed"
expect_runs "$TMP/pulled:1.4" "x=42"
again=$("$DSLIM" -q binary --pick /opt/x/bin/app --from "docker://$R/base:1" -o "docker://$R/team/app:1.4") ||
  fail "second push failed"
[[ $again == "$pushed" ]] || fail "a second push gave another digest"
echo "ok: push, skopeo copy, umoci unpack, runc run"

# A stopped registry: retried, then exit 4 naming it; a failed push leaves no tag.
stop_registry
expect_exit 4 "$DSLIM" deps --pick /opt/x/bin/app --from "docker://$R/base:1" --no-cache
[[ $E2E_STDERR == *"$R"* ]] || fail "the error does not name the registry: $E2E_STDERR"
"$DSLIM" -q binary --pick /opt/x/bin/app --from "oci:$L:v1" -o "docker://$R/team/app:broken" >/dev/null 2>&1 &&
  fail "a push to a stopped registry succeeded"
restart_registry
skopeo_ inspect --tls-verify=false "docker://$R/team/app:broken" >/dev/null 2>&1 && fail "a failed push left a tag"
echo "ok: a stopped registry fails cleanly with exit 4"

# A layer whose bytes in the registry no longer match its digest (a flipped
# byte in the gzip header's mtime: it still inflates): the pull, which
# indexes the layer as it downloads, is refused at the end and keeps
# nothing, neither the blob nor the layer's index; repaired, it works.
layer=$(skopeo_ inspect --raw --tls-verify=false "docker://$R/base:1" | jq -r '.layers[-1].digest')
data=$REGISTRY_DIR/storage/docker/registry/v2/blobs/sha256/${layer:7:2}/${layer#sha256:}/data
[[ -f $data ]] || fail "no registry storage for $layer at $data"
cp "$data" "$TMP/layer.good"
python3 - "$data" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[4] ^= 0x01
open(p, "wb").write(b)
PY
expect_exit 2 "$DSLIM" -q deps --pick /opt/x/bin/app --from "docker://$R/base:1" --cache-dir "$TMP/bad-cache"
[[ $E2E_STDERR == *"$layer"*refused* ]] || fail "the error does not refuse the layer: $E2E_STDERR"
[[ ! -e $TMP/bad-cache/blobs/sha256/${layer#sha256:} ]] || fail "the refused blob was cached"
left=$(find "$TMP/bad-cache/layers" -type f 2>/dev/null | wc -l)
((left <= 1)) || fail "the refused layer left cache entries: $(find "$TMP/bad-cache/layers" -type f)"
cp "$TMP/layer.good" "$data"
got=$(deps --from "docker://$R/base:1" --cache-dir "$TMP/bad-cache") || fail "repaired pull failed"
[[ $got == "$want" ]] || fail "repaired pull: $got"
echo "ok: a layer that does not match its digest is refused and not cached"

# Basic auth: --creds, config.json, and a wrong password (never printed).
htpasswd -Bbn alice s3cret >"$TMP/htpasswd"
start_registry --htpasswd "$TMP/htpasswd"
A=$REGISTRY
skopeo_ copy -q --dest-tls-verify=false --dest-creds alice:s3cret "oci:$L:v1" "docker://$A/base:1" ||
  fail "skopeo push with auth failed"
got=$(deps --from "docker://$A/base:1" --creds alice:s3cret --no-cache) || fail "--creds failed"
[[ $got == "$want" ]] || fail "--creds: $got"
mkdir -p "$TMP/docker"
jq -n --arg k "$A" --arg a "$(printf alice:s3cret | base64)" '{auths: {($k): {auth: $a}}}' >"$TMP/docker/config.json"
got=$(DOCKER_CONFIG=$TMP/docker deps --from "docker://$A/base:1" --no-cache) || fail "config.json creds failed"
[[ $got == "$want" ]] || fail "config.json: $got"
expect_exit 4 "$DSLIM" deps --pick /opt/x/bin/app --from "docker://$A/base:1" --creds alice:n0pe --no-cache
[[ $E2E_STDERR == *401* || $E2E_STDERR == *nauthorized* ]] || fail "no clear 401: $E2E_STDERR"
[[ $E2E_STDERR == *n0pe* ]] && fail "the password leaked: $E2E_STDERR"
echo "ok: Basic auth by --creds and config.json; a wrong password is a clear error"

# --dest-creds: the -o registry's own credentials, --creds still the source's
# (a CI job pulls from one registry and pushes to its own).
htpasswd -Bbn bob pushpw >"$TMP/htpasswd-b"
start_registry --htpasswd "$TMP/htpasswd-b"
B=$REGISTRY
expect_exit 4 "$DSLIM" -q binary --pick /opt/x/bin/app --from "docker://$A/base:1" --creds alice:s3cret \
  --no-cache -o "docker://$B/slim:1"
[[ $E2E_STDERR == *"$B"* ]] || fail "the push error does not name $B: $E2E_STDERR"
"$DSLIM" -q binary --pick /opt/x/bin/app --from "docker://$A/base:1" --creds alice:s3cret \
  --dest-creds bob:pushpw --no-cache -o "docker://$B/slim:1" >/dev/null || fail "--dest-creds push failed"
skopeo_ inspect --tls-verify=false --creds bob:pushpw "docker://$B/slim:1" >/dev/null ||
  fail "the image pushed with --dest-creds is not in $B"
echo "ok: --dest-creds for the output registry, --creds for the source"

# TLS with a private CA, through --cert-dir.
make_test_ca "$TMP/ca"
start_registry --tls "$TMP/ca/server.crt" "$TMP/ca/server.key"
T=$REGISTRY
mkdir "$TMP/certs" && cp "$TMP/ca/ca.crt" "$TMP/certs/"
skopeo_ copy -q --dest-cert-dir "$TMP/certs" "oci:$L:v1" "docker://$T/base:1" || fail "skopeo TLS push failed"
got=$(deps --from "docker://$T/base:1" --cert-dir "$TMP/certs" --no-cache) || fail "--cert-dir failed"
[[ $got == "$want" ]] || fail "--cert-dir: $got"
expect_exit 4 "$DSLIM" deps --pick /opt/x/bin/app --from "docker://$T/base:1" --no-cache
[[ $E2E_STDERR == *"$T"* ]] || fail "the TLS error does not name the registry: $E2E_STDERR"
echo "ok: TLS with a private CA"
