#!/usr/bin/env bash
# --multi-arch: one program built for x86-64 (gcc) and AArch64
# (aarch64-linux-gnu-gcc), both dynamic against glibc, slimmed against a
# two-platform source index the test builds with umoci (amd64 from this
# machine's glibc, arm64 from Debian's libc6-arm64-cross), and written as an
# image index over the two images.
#  1. oci: the index lists linux/amd64 and linux/arm64; each image holds its
#     own loader and libc; each runs under runc and prints its greeting, the
#     arm64 one through qemu-user (binfmt_misc, registered by the test).
#  2. docker:// from and to a local docker-registry: the source index pushed
#     with skopeo, the result read back with skopeo inspect --raw: the same
#     index digest as the oci: run (the same inputs, the same bytes).
#  3. dslim inspect lists every platform of the index.
#  4. Refused, nothing written: docker-archive:, two APPs for one platform, one APP.
source "$(dirname "$0")/../support/e2e.sh"
need skopeo umoci runc jq aarch64-linux-gnu-gcc gcc sha256sum
[[ -f /usr/aarch64-linux-gnu/lib/libc.so.6 ]] ||
  fail "no /usr/aarch64-linux-gnu/lib/libc.so.6 (scripts/bootstrap installs libc6-arm64-cross)"
binfmt_setup
export SOURCE_DATE_EPOCH=1700000000

# The program, twice.
cat >"$TMP/hello.c" <<'C'
#include <stdio.h>
int main(void) { printf("hello from %s\n", ARCH); return 0; }
C
mkdir -p "$TMP/build/amd64" "$TMP/build/arm64"
gcc -O2 -DARCH='"amd64"' -o "$TMP/build/amd64/hello" "$TMP/hello.c" || fail "gcc failed"
aarch64-linux-gnu-gcc -O2 -DARCH='"arm64"' -o "$TMP/build/arm64/hello" "$TMP/hello.c" ||
  fail "aarch64-linux-gnu-gcc failed"

# --- the source: an index over an amd64 and an arm64 root ---------------------------
L=$TMP/base
mkdir -p "$TMP/root-amd64/lib64" "$TMP/root-amd64/lib/x86_64-linux-gnu" \
  "$TMP/root-arm64/lib/aarch64-linux-gnu"
cp -L /lib64/ld-linux-x86-64.so.2 "$TMP/root-amd64/lib64/"
cp -L /lib/x86_64-linux-gnu/libc.so.6 "$TMP/root-amd64/lib/x86_64-linux-gnu/"
cp -L /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 "$TMP/root-arm64/lib/"
cp -L /usr/aarch64-linux-gnu/lib/libc.so.6 "$TMP/root-arm64/lib/aarch64-linux-gnu/"
umoci --log error init --layout "$L" || fail "umoci init failed"
# (unpack and repack: Debian's umoci insert writes a tar without its end.)
for arch in amd64 arm64; do
  umoci --log error new --image "$L:$arch" &&
    umoci --log error unpack --image "$L:$arch" "$TMP/bundle-$arch" >/dev/null &&
    cp -a "$TMP/root-$arch/." "$TMP/bundle-$arch/rootfs/" &&
    umoci --log error repack --image "$L:$arch" "$TMP/bundle-$arch" &&
    umoci --log error config --image "$L:$arch" --os linux --architecture "$arch" ||
    fail "umoci could not build the $arch source image"
done
# The index blob and its tag.
desc() {
  jq -c --arg t "$1" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t)
    | {mediaType, digest, size, platform: {os: "linux", architecture: $t}}' "$L/index.json"
}
jq -cjn --argjson a "$(desc amd64)" --argjson b "$(desc arm64)" \
  '{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [$a, $b]}' >"$TMP/idx.json"
hex=$(sha256sum "$TMP/idx.json" | cut -d' ' -f1)
cp "$TMP/idx.json" "$L/blobs/sha256/$hex"
jq --arg d "sha256:$hex" --argjson s "$(stat -c %s "$TMP/idx.json")" \
  '.manifests += [{mediaType: "application/vnd.oci.image.index.v1+json", digest: $d, size: $s,
    annotations: {"org.opencontainers.image.ref.name": "multi"}}]' "$L/index.json" >"$TMP/index.json"
mv "$TMP/index.json" "$L/index.json"
[[ $(skopeo_ inspect --raw "oci:$L:multi" | jq -r '[.manifests[].platform.architecture] | join(" ")') == "amd64 arm64" ]] ||
  fail "the source index is not what the test built: $(skopeo_ inspect --raw "oci:$L:multi")"

# --- 1. oci: -------------------------------------------------------------------------
"$DSLIM" binary "$TMP/build/amd64/hello" "$TMP/build/arm64/hello" --multi-arch --from "oci:$L:multi" \
  -o "oci:$TMP/out:1" >"$TMP/multi.txt" 2>"$TMP/multi.err" || fail "dslim --multi-arch failed: $(cat "$TMP/multi.err")"
INDEX=$(sed -n "s|^wrote oci:$TMP/out:1 (\(sha256:[0-9a-f]\{64\}\)), an index over.*|\1|p" "$TMP/multi.txt")
[[ -n $INDEX ]] || fail "the report does not end with 'wrote DEST (DIGEST), an index over ...': $(tail -1 "$TMP/multi.txt")"
skopeo_ inspect --raw "oci:$TMP/out:1" >"$TMP/out-index.json"
[[ sha256:$(sha256sum <"$TMP/out-index.json" | cut -d' ' -f1) == "$INDEX" ]] ||
  fail "the report says $INDEX, the layout's tag names another index"
[[ $(jq -r .mediaType "$TMP/out-index.json") == application/vnd.oci.image.index.v1+json &&
  $(jq -r '[.manifests[] | .platform.os + "/" + .platform.architecture] | join(" ")' "$TMP/out-index.json") == "linux/amd64 linux/arm64" ]] ||
  fail "the output is not an index over linux/amd64 and linux/arm64: $(cat "$TMP/out-index.json")"
for arch in amd64 arm64; do
  skopeo_ copy -q --override-arch "$arch" "oci:$TMP/out:1" "oci:$TMP/$arch:1" || fail "skopeo copy --override-arch $arch failed"
  [[ $(skopeo_ inspect --config "oci:$TMP/$arch:1" | jq -r .architecture) == "$arch" ]] || fail "$arch: the config says another architecture"
  image_entries "$arch" "oci:$TMP/$arch:1"
done
jq -e '[.files[].path] | index("/lib64/ld-linux-x86-64.so.2") and index("/lib/x86_64-linux-gnu/libc.so.6")' "$TMP/entries-amd64.json" >/dev/null ||
  fail "amd64: not its loader and libc: $(jq -c '[.files[].path]' "$TMP/entries-amd64.json")"
jq -e '[.files[].path] | index("/lib/ld-linux-aarch64.so.1") and index("/lib/aarch64-linux-gnu/libc.so.6") and (index("/lib64/ld-linux-x86-64.so.2") | not)' "$TMP/entries-arm64.json" >/dev/null ||
  fail "arm64: not its loader and libc: $(jq -c '[.files[].path]' "$TMP/entries-arm64.json")"
echo "ok: oci: an index ($INDEX) over linux/amd64 and linux/arm64, each with its own loader and libc"
expect_runs "$TMP/amd64:1" "hello from amd64"
qemu_aarch64 on
expect_runs "$TMP/arm64:1" "hello from arm64"

# --- 3. inspect ----------------------------------------------------------------------
"$DSLIM" inspect "oci:$TMP/out:1" >"$TMP/inspect.txt" || fail "dslim inspect of the index failed"
for arch in amd64 arm64; do
  d=$(jq -r --arg a "$arch" '.manifests[] | select(.platform.architecture == $a) | .digest' "$TMP/out-index.json")
  grep -q "^index of:   linux/$arch $d" "$TMP/inspect.txt" || fail "inspect does not list linux/$arch $d: $(head -5 "$TMP/inspect.txt")"
done
"$DSLIM" inspect "oci:$TMP/out:1" --format json | jq -e '.platforms | length == 2' >/dev/null ||
  fail "inspect --format json has no two platforms"
echo "ok: inspect lists both platforms of the index"

# --- 5. SBOMs: one per platform, each attached to its image ---------------------------
mkdir -p "$TMP/sbom"
"$DSLIM" -q binary "$TMP/build/amd64/hello" "$TMP/build/arm64/hello" --multi-arch --from "oci:$L:multi" \
  --sbom-out "$TMP/sbom/hello.spdx.json" -o "oci:$TMP/sb:1" >/dev/null 2>"$TMP/sb.err" ||
  fail "--multi-arch --sbom-out failed: $(cat "$TMP/sb.err")"
[[ ! -e $TMP/sbom/hello.spdx.json ]] || fail "--multi-arch wrote the SBOM under its plain name"
for arch in amd64 arm64; do
  f=$TMP/sbom/hello.linux-$arch.spdx.json
  jq -e '.spdxVersion == "SPDX-2.3"' "$f" >/dev/null || fail "no SPDX document $f"
  d=$(jq -r --arg a "$arch" '.manifests[] | select(.platform.architecture == $a) | .digest' "$TMP/out-index.json")
  n=$(jq '[.manifests[] | select(.artifactType == "application/spdx+json")] | length' "$TMP/sb/index.json")
  ((n == 2)) || fail "want 2 SBOM entries in the layout, have $n"
  found=""
  for m in $(jq -r '.manifests[] | select(.artifactType == "application/spdx+json") | .digest' "$TMP/sb/index.json"); do
    [[ $(jq -r .subject.digest "$TMP/sb/blobs/sha256/${m#sha256:}") == "$d" ]] && found=$m
  done
  [[ -n $found ]] || fail "no SBOM in the layout names the $arch image $d"
  layer=$(jq -r '.layers[0].digest' "$TMP/sb/blobs/sha256/${found#sha256:}")
  cmp -s "$TMP/sb/blobs/sha256/${layer#sha256:}" "$f" || fail "the attached $arch SBOM is not $f"
done
echo "ok: --sbom-out with --multi-arch: a file per platform, each attached to its image"

# --- 2. docker:// ----------------------------------------------------------------------
start_registry
skopeo_ copy -q --all --dest-tls-verify=false "oci:$L:multi" "docker://$REGISTRY/base:1" || fail "skopeo could not push the source index"
"$DSLIM" -q binary "$TMP/build/amd64/hello" "$TMP/build/arm64/hello" --multi-arch --from "docker://$REGISTRY/base:1" \
  --sbom-out "$TMP/reg.cdx.json" -o "docker://$REGISTRY/team/hello:1" >"$TMP/push.out" 2>"$TMP/push.err" ||
  fail "--multi-arch to docker:// failed: $(cat "$TMP/push.err")"
[[ $(cat "$TMP/push.out") == "$INDEX" ]] || fail "-q printed $(cat "$TMP/push.out"), not the oci: run's $INDEX"
skopeo_ inspect --raw --tls-verify=false "docker://$REGISTRY/team/hello:1" >"$TMP/reg-index.json" || fail "skopeo cannot read the pushed index"
cmp -s "$TMP/reg-index.json" "$TMP/out-index.json" || fail "the pushed index is not the oci: one: $(cat "$TMP/reg-index.json")"
for d in $(jq -r '.manifests[].digest' "$TMP/reg-index.json"); do
  skopeo_ inspect --raw --tls-verify=false "docker://$REGISTRY/team/hello@$d" | jq -e '.layers | length == 1' >/dev/null ||
    fail "the registry lacks the image $d"
done
# inspect of the pushed index: both platforms, the one asked for shown.
arm=$(jq -r '.manifests[] | select(.platform.architecture == "arm64") | .digest' "$TMP/reg-index.json")
"$DSLIM" inspect "docker://$REGISTRY/team/hello:1" --platform linux/arm64 --format json >"$TMP/reg-inspect.json" ||
  fail "inspect of the pushed index failed"
jq -e --arg d "$arm" '(.platforms | length == 2) and .manifest_digest == $d' "$TMP/reg-inspect.json" >/dev/null ||
  fail "inspect --platform linux/arm64 of the pushed index: $(jq -c '{platforms, manifest_digest}' "$TMP/reg-inspect.json")"
# Each image's SBOM, under the registry's fallback tag for it (docker-registry has no referrers API).
for d in $(jq -r '.manifests[].digest' "$TMP/reg-index.json"); do
  skopeo_ inspect --raw --tls-verify=false "docker://$REGISTRY/team/hello:sha256-${d#sha256:}" >"$TMP/refs.json" ||
    fail "no referrers tag for $d"
  jq -e '.manifests | length == 1 and .[0].artifactType == "application/vnd.cyclonedx+json"' "$TMP/refs.json" >/dev/null ||
    fail "the referrers of $d: $(cat "$TMP/refs.json")"
done
[[ -f $TMP/reg.linux-amd64.cdx.json && -f $TMP/reg.linux-arm64.cdx.json ]] || fail "no SBOM file per platform: $(ls "$TMP")"
echo "ok: docker:// from and to a registry: the same index $INDEX, both images there, each with its SBOM attached"

# --- 4. refused ----------------------------------------------------------------------
expect_exit 1 "$DSLIM" binary "$TMP/build/amd64/hello" "$TMP/build/arm64/hello" --multi-arch --from "oci:$L:multi" \
  -o "docker-archive:$TMP/d.tar"
[[ $E2E_STDERR == *"holds one image, not an index over several platforms"* && ! -e $TMP/d.tar ]] ||
  fail "docker-archive: $E2E_STDERR"
cp "$TMP/build/amd64/hello" "$TMP/hello2"
expect_exit 1 "$DSLIM" binary "$TMP/build/amd64/hello" "$TMP/hello2" --multi-arch --from "oci:$L:multi" -o "oci:$TMP/twice:1"
[[ $E2E_STDERR == *"two images for linux/amd64"* && ! -e $TMP/twice ]] || fail "two amd64 builds: $E2E_STDERR"
expect_exit 1 "$DSLIM" binary "$TMP/build/amd64/hello" --multi-arch --from "oci:$L:multi" -o "oci:$TMP/one:1"
[[ ! -e $TMP/one ]] || fail "one APP: something was written"
