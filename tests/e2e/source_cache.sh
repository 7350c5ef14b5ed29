#!/usr/bin/env bash
# The layer cache and --platform: a second run reuses every layer (shown by
# -v), --no-cache leaves the cache alone, a damaged entry is rebuilt rather
# than trusted, two runs sharing one empty cache both succeed, and an index
# gives the image of the platform asked for.
source "$(dirname "$0")/../support/e2e.sh"
need umoci runc skopeo jq python3
FX=$DSLIM_FIXTURE_DIR
L=$TMP/layout
C=$TMP/c

fixture_layout "$L"

deps() { "$DSLIM" -v deps --pick /opt/x/bin/app --format list "$@"; }

# Cold, then warm.
deps --from "oci:$L:v1" --cache-dir "$C" >"$TMP/cold.out" 2>"$TMP/cold.err" ||
  fail "cold run failed: $(cat "$TMP/cold.err")"
grep -q "indexed into the cache $C/layers/sha256/" "$TMP/cold.err" ||
  fail "cold run did not fill the cache: $(cat "$TMP/cold.err")"
grep -q "cache hit" "$TMP/cold.err" && fail "cold run claims a cache hit"
deps --from "oci:$L:v1" --cache-dir "$C" >"$TMP/warm.out" 2>"$TMP/warm.err" || fail "warm run failed"
hits=$(grep -c "cache hit $C/layers/sha256/" "$TMP/warm.err" || true)
layers=$(jq '.layers | length' "$L/blobs/sha256/$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]=="v1") | .digest' "$L/index.json" | cut -d: -f2)")
[[ $hits -eq $layers && $layers -ge 1 ]] || fail "warm run: $hits cache hits for $layers layers: $(cat "$TMP/warm.err")"
grep -q "indexed" "$TMP/warm.err" && fail "warm run indexed a layer again"
cmp -s "$TMP/cold.out" "$TMP/warm.out" || fail "warm and cold runs disagree"
grep -qx /opt/x/lib/libx.so.1.2.3 "$TMP/warm.out" || fail "warm run lacks libx: $(cat "$TMP/warm.out")"
echo "ok: second run hits the cache for all $layers layers"

# oci:DIR@sha256:… names the image by its manifest digest instead of a tag.
v1=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]=="v1") | .digest' "$L/index.json")
by_digest=$("$DSLIM" deps --pick /opt/x/bin/app --format list --from "oci:$L@$v1") || fail "oci:DIR@digest failed"
[[ $by_digest == "$(cat "$TMP/warm.out")" ]] || fail "oci:DIR@digest gives another answer"
expect_exit 2 "$DSLIM" deps --pick /opt/x/bin/app --from "oci:$L@sha256:$(printf '0%.0s' {1..64})"
[[ $E2E_STDERR == *"no image with digest"* ]] || fail "unclear error for an unknown digest: $E2E_STDERR"
echo "ok: oci:DIR@sha256:…"

# The default cache lives under $XDG_CACHE_HOME/dslim.
deps --from "oci:$L:v1" >/dev/null 2>&1 || fail "run with the default cache failed"
ls "$XDG_CACHE_HOME/dslim/layers/sha256/" | grep -q . || fail "nothing cached under \$XDG_CACHE_HOME/dslim"
echo "ok: default cache under \$XDG_CACHE_HOME/dslim"

# --no-cache neither reads nor writes it.
before=$(find "$C" -type f | sort | xargs md5sum)
deps --from "oci:$L:v2" --cache-dir "$C" --no-cache >/dev/null 2>"$TMP/nc.err" && fail "v2 should miss libx"
grep -q "cache hit" "$TMP/nc.err" && fail "--no-cache read the cache"
[[ "$(find "$C" -type f | sort | xargs md5sum)" == "$before" ]] || fail "--no-cache changed the cache"
echo "ok: --no-cache leaves the cache alone"

# A damaged entry is rebuilt, never trusted: a cut-short file (caught when
# it is opened), then file bytes zeroed under an intact index (caught by the
# per-file checksum when the file is read).
entry=$(grep -o "cache hit $C/layers/sha256/[0-9a-f]*" "$TMP/warm.err" | head -1 | cut -d' ' -f3)
for how in truncate zero; do
  python3 - "$entry" "$how" <<'PY'
import struct, sys
path, how = sys.argv[1], sys.argv[2]
data = bytearray(open(path, 'rb').read())
tar_size = struct.unpack_from('<Q', data, 16)[0]
if how == 'truncate':
    data = data[:len(data) // 2]
else:
    data[128:128 + tar_size] = bytes(tar_size)
open(path, 'wb').write(data)
PY
  out=$(deps --from "oci:$L:v1" --cache-dir "$C" 2>"$TMP/bad.err") || fail "$how: run failed: $(cat "$TMP/bad.err")"
  grep -q "damaged; rebuilt it" "$TMP/bad.err" || fail "$how: no rebuild reported: $(cat "$TMP/bad.err")"
  [[ "$out" == "$(cat "$TMP/warm.out")" ]] || fail "$how: rebuilt run gives a different answer"
  deps --from "oci:$L:v1" --cache-dir "$C" >/dev/null 2>"$TMP/again.err" || fail "$how: run after rebuild failed"
  grep -q "damaged" "$TMP/again.err" && fail "$how: the rebuilt entry is still damaged"
  echo "ok: $how: damaged cache entry rebuilt"
done

# Two runs at once on one empty cache: both succeed, both images run.
C2=$TMP/c2
"$DSLIM" -q binary --pick /opt/x/bin/app --from "oci:$L:v1" --cache-dir "$C2" -o "oci:$TMP/o1:t" &
p1=$!
"$DSLIM" -q binary --pick /opt/x/bin/app --from "oci:$L:v1" --cache-dir "$C2" -o "oci:$TMP/o2:t" &
p2=$!
wait $p1 || fail "first concurrent run failed"
wait $p2 || fail "second concurrent run failed"
expect_runs "$TMP/o1:t" "x=42"
expect_runs "$TMP/o2:t" "x=42"
deps --from "oci:$L:v1" --cache-dir "$C2" >/dev/null 2>"$TMP/c2.err" || fail "run after concurrent ones failed"
grep -q "indexed" "$TMP/c2.err" && fail "concurrent runs left the cache incomplete"
[[ -z $(find "$C2" -name '.tmp-*') ]] || fail "concurrent runs left temporary files"
echo "ok: two concurrent runs share one cache"

# A warm `binary` reuses the compressed layer of the same tar: same digest.
"$DSLIM" -v binary --pick /opt/x/bin/app --from "oci:$L:v1" --cache-dir "$C2" -o "oci:$TMP/o3:t" \
  >/dev/null 2>"$TMP/o3.err" || fail "warm binary failed: $(cat "$TMP/o3.err")"
grep -q "not compressed again" "$TMP/o3.err" || fail "warm binary compressed again: $(cat "$TMP/o3.err")"
[[ $(image_digest "oci:$TMP/o3:t") == $(image_digest "oci:$TMP/o1:t") ]] ||
  fail "the reused layer gives another image digest"
"$DSLIM" -q binary --pick /opt/x/bin/app --from "oci:$L:v1" --no-cache -o "oci:$TMP/o4:t" >/dev/null ||
  fail "--no-cache binary failed"
[[ $(image_digest "oci:$TMP/o4:t") == $(image_digest "oci:$TMP/o1:t") ]] ||
  fail "cached and uncached runs give different images"
echo "ok: warm binary reuses the compressed layer, same digest"

# --platform: an index with v1 as linux/amd64, v2 as linux/arm64 and an
# attestation entry; the APP's own ELF header picks amd64 by default.
fixture_index "$L" "$(jq -n --argjson a "$(layout_desc "$L" v1)" --argjson b "$(layout_desc "$L" v2)" \
  '[($b + {platform: {os: "linux", architecture: "arm64", variant: "v8"}}),
    ($a + {platform: {os: "unknown", architecture: "unknown"}}),
    ($a + {platform: {os: "linux", architecture: "amd64"}})]')"

cp "$FX/bin/app_runpath" "$TMP/app"
"$DSLIM" deps "$TMP/app" --from "oci:$L:multi" --env LD_LIBRARY_PATH=/opt/x/lib >"$TMP/p.out" 2>&1 ||
  fail "default platform (amd64 from the ELF) failed: $(cat "$TMP/p.out")"
"$DSLIM" deps --pick /opt/x/bin/app --from "oci:$L:multi" --platform linux/amd64 >/dev/null ||
  fail "--platform linux/amd64 failed"
expect_exit 2 "$DSLIM" -q deps --pick /opt/x/bin/app --from "oci:$L:multi" --platform linux/arm64
[[ $E2E_STDERR == *libx.so.1* ]] || fail "arm64 (v2) should miss libx: $E2E_STDERR"
expect_exit 2 "$DSLIM" deps --pick /opt/x/bin/app --from "oci:$L:multi" --platform linux/s390x
[[ $E2E_STDERR == *"no image for linux/s390x"*"linux/arm64/v8"* ]] || fail "unclear platform error: $E2E_STDERR"
expect_exit 1 "$DSLIM" deps --pick /opt/x/bin/app --from "oci:$L:multi" --platform 'linux/AMD64!'
"$DSLIM" inspect "oci:$L:multi" --platform linux/arm64 | grep -q "platform:   linux/" ||
  fail "inspect --platform failed"
echo "ok: --platform picks from an index"
