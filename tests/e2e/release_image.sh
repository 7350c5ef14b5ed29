#!/usr/bin/env bash
# dslim's own image (scripts/release-image, written by scripts/release to
# build/release/dslim.oci.tar): the static dslim at /dslim, CA certificates
# and passwd with nonroot, Entrypoint ["/dslim"], under 5 MB compressed, the
# same digest when made again. Run under runc as its own user (nonroot) with
# a workspace bind-mounted at /work, in this machine's network: `deps` of
# the workspace's program and `binary` from a local docker-registry to it;
# the image it pushes runs.
#
# umoci 0.4.7 unpacks gzip layers only, and the image's layer is zstd (that
# is what keeps it under 5 MB): skopeo copies it to a gzip layout first, the
# same files.
#
# Like static_release.sh: ctest label "release", run by scripts/test after
# scripts/release; without the image it fails under CI.
source "$(dirname "$0")/../support/e2e.sh"
SRC_DIR=${DSLIM_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
IMG=$SRC_DIR/build/release/dslim.oci.tar
need_release "$IMG"
: "${DSLIM_FIXTURE_DIR:?DSLIM_FIXTURE_DIR must point at the built fixtures}"
need umoci runc skopeo jq docker-registry tar

# --- size, config, reproducibility ---
tar -xOf "$IMG" index.json >"$TMP/index.json" || fail "$IMG has no index.json"
manifest=$(jq -r '.manifests[0].digest' "$TMP/index.json")
tar -xOf "$IMG" "blobs/sha256/${manifest#sha256:}" >"$TMP/manifest.json" || fail "no manifest $manifest"
bytes=$(jq '[.config.size, (.layers[].size)] | add' "$TMP/manifest.json")
bytes=$((bytes + $(stat -c %s "$TMP/manifest.json")))
((bytes < 5000000)) || fail "the image is $bytes bytes compressed, not under 5 MB"
jq -e '.layers | length == 1 and .[0].mediaType == "application/vnd.oci.image.layer.v1.tar+zstd"' \
  "$TMP/manifest.json" >/dev/null || fail "want one zstd layer: $(cat "$TMP/manifest.json")"
config=$(jq -r .config.digest "$TMP/manifest.json")
tar -xOf "$IMG" "blobs/sha256/${config#sha256:}" >"$TMP/config.json"
jq -e '.config.Entrypoint == ["/dslim"] and .config.User == "nonroot"
       and (.config.Env | index("SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt") != null)
       and .config.Labels["org.opencontainers.image.title"] == "dslim"' "$TMP/config.json" >/dev/null ||
  fail "config: $(jq -c .config "$TMP/config.json")"
"$DSLIM" inspect "oci-archive:$IMG" --format json | jq -r '.files[].path' | sort >"$TMP/files"
for want in /dslim /etc/passwd /etc/group /etc/ssl/certs/ca-certificates.crt; do
  grep -qxF "$want" "$TMP/files" || fail "the image lacks $want: $(tr '\n' ' ' <"$TMP/files")"
done
echo "ok: $bytes bytes compressed, one zstd layer, Entrypoint /dslim as nonroot, certs and passwd"

# Made again from the same binary: the same bytes.
"$SRC_DIR/scripts/release-image" "$TMP/again.tar" 2>/dev/null || fail "scripts/release-image failed"
cmp -s "$IMG" "$TMP/again.tar" ||
  fail "made twice, two images: $(tar -xOf "$TMP/again.tar" index.json | jq -r '.manifests[0].digest') and $manifest"
echo "ok: reproducible ($manifest)"

# --- under runc: deps and binary registry to registry, the workspace mounted ---
skopeo_ copy -q --dest-compress --dest-compress-format gzip "oci-archive:$IMG" "oci:$TMP/gz:dslim" ||
  fail "skopeo cannot read $IMG"
B=$TMP/bundle
unpack_bundle "$TMP/gz:dslim" "$B"
[[ $(jq -c .process.user "$B/config.json") == '{"uid":65532,"gid":65532}' ]] ||
  fail "the bundle runs as $(jq -c .process.user "$B/config.json"), not nonroot"
grep -q '^nonroot:x:65532:65532:' "$B/rootfs/etc/passwd" || fail "no nonroot in /etc/passwd: $(cat "$B/rootfs/etc/passwd")"
W=$TMP/work
mkdir -p "$W"
cp "$DSLIM_FIXTURE_DIR/bin/hello_plain" "$W/app"
jq --arg w "$W" '.mounts += [{destination: "/work", type: "bind", source: $w, options: ["rbind", "ro"]}]
    | .process.cwd = "/work"' "$B/config.json" >"$B/config.json.new" && mv "$B/config.json.new" "$B/config.json"
bundle_host_network "$B"

L=$TMP/layout
fixture_layout "$L"
start_registry
skopeo_ copy -q --dest-tls-verify=false "oci:$L:v1" "docker://$REGISTRY/base:1" || fail "skopeo push failed"

out=$(run_bundle "$B" /dslim deps ./app --from "docker://$REGISTRY/base:1" --format list) ||
  fail "deps in dslim's image failed: $(cat "$TMP/run.err")"
grep -qF /lib/x86_64-linux-gnu/libc.so.6 <<<"$out" || fail "deps in dslim's image: $out"
run_bundle "$B" /dslim -q binary ./app --from "docker://$REGISTRY/base:1" -o "docker://$REGISTRY/app:1" >/dev/null ||
  fail "binary in dslim's image failed: $(cat "$TMP/run.err")"
skopeo_ copy -q --src-tls-verify=false "docker://$REGISTRY/app:1" "oci:$TMP/app:1" || fail "the pushed image cannot be pulled"
expect_runs "$TMP/app:1" "hello from dslim"
echo "release_image: ok"
