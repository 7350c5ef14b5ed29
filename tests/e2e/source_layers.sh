#!/usr/bin/env bash
# Images as sources: a multi-layer image packed by umoci (a file turned into a
# symlink into a lower layer, a hardlink, a whiteout, an opaque directory),
# converted by skopeo to oci-archive:, docker-archive: and zstd layers. For
# each form `dslim deps` finds the right files, a deleted library is missing
# (exit 2), and the image `dslim binary` writes runs in runc.
source "$(dirname "$0")/../support/e2e.sh"
need skopeo umoci runc jq tar
FX=$DSLIM_FIXTURE_DIR
L=$TMP/layout

# base: the loader, libc, the program, libx.so.1 as a junk regular file and
# the real libx.so.1.2.3 beside it.
umoci --log error init --layout "$L"
umoci --log error new --image "$L:base"
umoci --log error unpack --image "$L:base" "$TMP/b1"
r=$TMP/b1/rootfs
mkdir -p "$r/lib64" "$r/lib/x86_64-linux-gnu" "$r/opt/x/bin" "$r/opt/x/lib" "$r/opt/x/share"
cp -L /lib64/ld-linux-x86-64.so.2 "$r/lib64/"
cp -L /lib/x86_64-linux-gnu/libc.so.6 "$r/lib/x86_64-linux-gnu/"
cp "$FX/bin/app_runpath" "$r/opt/x/bin/app"
cp "$FX/lib/libx.so.1.2.3" "$r/opt/x/lib/"
echo "not an ELF file" >"$r/opt/x/lib/libx.so.1"
echo old >"$r/opt/x/share/old"
umoci --log error repack --image "$L:base" "$TMP/b1"

# v2: libx.so.1 becomes a symlink to the lower layer's libx.so.1.2.3.
umoci --log error unpack --image "$L:base" "$TMP/b2"
ln -sf libx.so.1.2.3 "$TMP/b2/rootfs/opt/x/lib/libx.so.1"
umoci --log error repack --image "$L:v2" "$TMP/b2"

# v3: a layer of our own tar: /opt/x/bin/run is a hardlink to a new copy of
# the program, and /opt/x/share is made opaque.
mkdir -p "$TMP/l3/opt/x/bin" "$TMP/l3/opt/x/share"
cp "$FX/bin/app_runpath" "$TMP/l3/opt/x/bin/app2"
ln "$TMP/l3/opt/x/bin/app2" "$TMP/l3/opt/x/bin/run"
touch "$TMP/l3/opt/x/share/.wh..wh..opq" "$TMP/l3/opt/x/share/new"
tar -C "$TMP/l3" -cf "$TMP/l3.tar" opt
tar -tvf "$TMP/l3.tar" | grep -q '^h.* opt/x/bin/run link to opt/x/bin/app2$' ||
  tar -tvf "$TMP/l3.tar" | grep -q 'opt/x/bin/.* link to opt/x/bin/' || fail "tar made no hardlink"
umoci --log error raw add-layer --image "$L:v2" --tag v3 "$TMP/l3.tar"

# wh: v3 with libx.so.1.2.3 deleted (umoci writes a .wh. whiteout).
umoci --log error unpack --image "$L:v3" "$TMP/b4"
rm "$TMP/b4/rootfs/opt/x/lib/libx.so.1.2.3"
umoci --log error repack --image "$L:wh" "$TMP/b4"
# opq: v3 with /opt/x/lib made opaque (only a README left in it).
mkdir -p "$TMP/l5/opt/x/lib"
touch "$TMP/l5/opt/x/lib/.wh..wh..opq" "$TMP/l5/opt/x/lib/README"
tar -C "$TMP/l5" -cf "$TMP/l5.tar" opt
umoci --log error raw add-layer --image "$L:v3" --tag opq "$TMP/l5.tar"

for t in wh v3; do
  skopeo_ copy -q "oci:$L:$t" "oci-archive:$TMP/a-$t.tar:$t" || fail "skopeo copy to oci-archive failed"
  skopeo_ copy -q "oci:$L:$t" "docker-archive:$TMP/d-$t.tar:team/app:$t" ||
    fail "skopeo copy to docker-archive failed"
  skopeo_ copy -q --dest-compress-format zstd "oci:$L:$t" "oci:$TMP/zstd:$t" ||
    fail "skopeo copy with zstd failed"
done
jq -e '.layers | map(.mediaType) | all(endswith("+zstd"))' \
  "$TMP/zstd/blobs/sha256/$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]=="v3") | .digest' "$TMP/zstd/index.json" | cut -d: -f2)" \
  >/dev/null || fail "skopeo did not write zstd layers"

n=0
for form in "oci:$L:v3" "oci-archive:$TMP/a-v3.tar:v3" "docker-archive:$TMP/d-v3.tar:team/app:v3" \
  "oci:$TMP/zstd:v3"; do
  n=$((n + 1))
  list=$("$DSLIM" deps --pick /opt/x/bin/run --from "$form" --format list) ||
    fail "$form: dslim deps failed"
  for want in /opt/x/bin/run /opt/x/lib/libx.so.1 /opt/x/lib/libx.so.1.2.3 \
    /lib/x86_64-linux-gnu/libc.so.6 /lib64/ld-linux-x86-64.so.2; do
    grep -qx -- "$want" <<<"$list" || fail "$form: deps list lacks $want: $list"
  done
  echo "ok: $form: deps"
  "$DSLIM" -q binary --pick /opt/x/bin/run --from "$form" -o "oci:$TMP/out:t$n" ||
    fail "$form: dslim binary failed"
  expect_runs "$TMP/out:t$n" "x=42"
done

# The deleted library is missing, by whiteout and by opaque directory.
for form in "oci:$L:wh" "oci-archive:$TMP/a-wh.tar:wh" "docker-archive:$TMP/d-wh.tar" \
  "oci:$TMP/zstd:wh" "oci:$L:opq"; do
  expect_exit 2 "$DSLIM" deps --pick /opt/x/bin/run --from "$form" --format list
  grep -q 'libx.so.1 needed by /opt/x/bin/run: not found' <<<"$E2E_STDERR" ||
    fail "$form: unexpected message: $E2E_STDERR"
done

# The image's own Env counts: LD_LIBRARY_PATH finds libx outside the RUNPATH.
mkdir -p "$TMP/l6/opt/y"
cp "$FX/lib/libx.so.1.2.3" "$TMP/l6/opt/y/libx.so.1"
tar -C "$TMP/l6" -cf "$TMP/l6.tar" opt
umoci --log error raw add-layer --image "$L:opq" --tag ldpath "$TMP/l6.tar"
umoci --log error config --image "$L:ldpath" --config.env LD_LIBRARY_PATH=/opt/y
list=$("$DSLIM" deps --pick /opt/x/bin/run --from "oci:$L:ldpath" --format list) ||
  fail "deps with the image's LD_LIBRARY_PATH failed"
grep -qx /opt/y/libx.so.1 <<<"$list" || fail "LD_LIBRARY_PATH from the image not used: $list"
echo "ok: the image's LD_LIBRARY_PATH"

# One flipped byte in a layer blob: exit 2 naming the blob, nothing written.
cp -r "$L" "$TMP/bad"
m=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]=="v3") | .digest' "$L/index.json")
layer=$(jq -r '.layers[0].digest' "$L/blobs/sha256/${m#sha256:}")
blob=$TMP/bad/blobs/sha256/${layer#sha256:}
chmod u+w "$blob"
printf '%s' "$(head -c 1000 "$blob" | tail -c 1 | tr '\000-\377' '\001-\377\000')" |
  dd of="$blob" bs=1 seek=999 conv=notrunc status=none
# A fresh cache: the runs above cached this layer by its diff_id, and a warm
# run never reads the blob again.
expect_exit 2 "$DSLIM" binary --pick /opt/x/bin/run --from "oci:$TMP/bad:v3" -o "oci:$TMP/never:t" \
  --cache-dir "$TMP/fresh"
cfg=$(jq -r '.config.digest' "$L/blobs/sha256/${m#sha256:}")
diff_id=$(jq -r '.rootfs.diff_ids[0]' "$L/blobs/sha256/${cfg#sha256:}")
[[ ! -e $TMP/fresh/layers/sha256/${diff_id#sha256:} ]] || fail "a corrupt blob left a cache entry"
grep -q "$layer" <<<"$E2E_STDERR" || fail "the error does not name the blob: $E2E_STDERR"
[[ ! -e $TMP/never ]] || fail "output written despite a corrupt source"

# Hostile and broken layers: exit 2 with one clear line, and nothing written.
evil_layer() {  # evil_layer TAG NAME TYPE [TARGET]: one tar entry made by python's tarfile
  python3 - "$TMP/$1.tar" "$2" "$3" "${4:-}" <<'PY'
import io, sys, tarfile
out, name, kind, target = sys.argv[1:]
with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
    info = tarfile.TarInfo(name)
    if kind == "sym":
        info.type, info.linkname = tarfile.SYMTYPE, target
        t.addfile(info)
    else:
        info.size = 5
        t.addfile(info, io.BytesIO(b"evil\n"))
PY
  umoci --log error raw add-layer --image "$L:v3" --tag "$1" "$TMP/$1.tar"
}
evil_layer dotdot ../../evil file
expect_exit 2 "$DSLIM" binary --pick /opt/x/bin/run --from "oci:$L:dotdot" -o "oci:$TMP/never:t"
grep -q "layer sha256:[0-9a-f]*: entry ../../evil escapes the root" <<<"$E2E_STDERR" ||
  fail "unexpected message: $E2E_STDERR"
[[ ! -e $TMP/never && ! -e $TMP/../evil && ! -e /evil ]] || fail "something was written"
evil_layer loop opt/x/lib/libx.so.1 sym libx.so.1
expect_exit 2 "$DSLIM" binary --pick /opt/x/bin/run --from "oci:$L:loop" -o "oci:$TMP/never:t"
grep -qi "loop\|too many" <<<"$E2E_STDERR" || fail "unexpected message: $E2E_STDERR"
# An absolute symlink out of the root resolves inside it: here, to nothing.
evil_layer out opt/x/lib/libx.so.1 sym "/../../../..$FX/lib/libx.so.1.2.3"
expect_exit 2 "$DSLIM" binary --pick /opt/x/bin/run --from "oci:$L:out" -o "oci:$TMP/never:t"
grep -q "libx.so.1 needed by /opt/x/bin/run: not found" <<<"$E2E_STDERR" ||
  fail "unexpected message: $E2E_STDERR"
# A truncated layer blob.
cp -r "$L" "$TMP/short"
blob=$TMP/short/blobs/sha256/${layer#sha256:}
chmod u+w "$blob"
truncate -s 1000 "$blob"
expect_exit 2 "$DSLIM" deps --pick /opt/x/bin/run --from "oci:$TMP/short:v3" --no-cache
grep -q "$layer" <<<"$E2E_STDERR" || fail "the error does not name the blob: $E2E_STDERR"
[[ ! -e $TMP/never ]] || fail "output written despite a bad source"
echo "ok: all forms"
