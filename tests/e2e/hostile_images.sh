#!/usr/bin/env bash
# Hostile images (DESIGN.md §5): each case is an image this test builds with
# python's tarfile and umoci, read by `dslim binary` in an empty HOME. Each
# must fail with exit 2 and one line naming the fault, within a time and
# memory bound, and write nothing but the cache. (source_layers.sh covers
# "../" entries, a self-loop, an absolute symlink out of the root, a flipped
# byte and a truncated layer; this adds the rest.)
source "$(dirname "$0")/../support/e2e.sh"
need umoci jq python3 timeout /usr/bin/time
FX=$DSLIM_FIXTURE_DIR
APP=$FX/bin/hello_cpp

# The run's whole world: HOME with its cache inside, and the output beside it.
export HOME=$TMP/home
mkdir -p "$HOME"
unset XDG_CACHE_HOME
L=$TMP/src
umoci --log error init --layout "$L"
# base: what the APP needs, so that each case breaks exactly one thing. The
# loader is only at /lib64 (this machine also has it in /lib/x86_64-linux-gnu).
umoci --log error new --image "$L:base"
umoci --log error unpack --image "$L:base" "$TMP/b"
mkdir -p "$TMP/b/rootfs/lib64" "$TMP/b/rootfs/lib/x86_64-linux-gnu"
cp -L /lib64/ld-linux-x86-64.so.2 "$TMP/b/rootfs/lib64/"
for lib in libstdc++.so.6 libgcc_s.so.1 libc.so.6 libm.so.6; do
  cp -L "/lib/x86_64-linux-gnu/$lib" "$TMP/b/rootfs/lib/x86_64-linux-gnu/"
done
umoci --log error repack --image "$L:base" "$TMP/b"
rm -rf "$TMP/b"

# make_layer TAG SPEC...: a layer of python tarfile entries on the base image.
# SPEC is KIND:NAME[:ARG] with KIND file (ARG = contents), sym, hard (ARG =
# target), fifo, chr, dir, or bigfile (a header claiming 100 GB, 5 bytes).
make_layer() {
  local tag=$1; shift
  python3 - "$TMP/$tag.tar" "$@" <<'PY'
import io, sys, tarfile
out, specs = sys.argv[1], sys.argv[2:]
with open(out, "wb") as f:
    t = tarfile.open(fileobj=f, mode="w", format=tarfile.PAX_FORMAT)
    for spec in specs:
        kind, name, arg = (spec.split(":", 2) + [""])[:3]
        info = tarfile.TarInfo(name)
        if kind == "file":
            data = arg.encode()
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
            continue
        if kind == "bigfile":
            info.size = 100 << 30
            f.write(info.tobuf(tarfile.PAX_FORMAT))
            f.write(b"evil\n".ljust(512, b"\0"))
            continue
        info.type = {"sym": tarfile.SYMTYPE, "hard": tarfile.LNKTYPE, "fifo": tarfile.FIFOTYPE,
                     "chr": tarfile.CHRTYPE, "dir": tarfile.DIRTYPE}[kind]
        info.linkname = arg
        info.devmajor, info.devminor = (1, 3) if kind == "chr" else (0, 0)
        t.addfile(info)
    if "bigfile" not in (s.split(":")[0] for s in specs):
        t.close()
PY
  umoci --log error raw add-layer --image "$L:base" --tag "$tag" "$TMP/$tag.tar"
}

# Everything under $TMP but the cache and this test's own bookkeeping.
snapshot() {
  (cd "$TMP" && find . -path ./home/.cache -prune -o -path ./cmd.out -prune -o -path ./cmd.err \
    -prune -o -path ./time.log -prune -o -name '*.txt' -prune -o -print | sort) >"$1"
}

# hostile NAME PATTERN DSLIM-ARGS...: exit 2, a last line matching PATTERN, at
# most 30 s and 200 MB peak RSS, nothing new in $TMP outside the cache.
hostile() {
  local name=$1 pattern=$2; shift 2
  snapshot "$TMP/before.txt"
  local start=$SECONDS rc=0
  /usr/bin/time -v -o "$TMP/time.log" timeout -s KILL 30 "$DSLIM" binary "$APP" \
    -o "oci:$TMP/out/$name:t" "$@" >"$TMP/cmd.out" 2>"$TMP/cmd.err" || rc=$?
  ((rc == 2)) || fail "$name: expected exit 2, got $rc: $(cat "$TMP/cmd.err")"
  # One line per fault (a missing loader is reported for each library that
  # needs it), the last one saying why nothing was written.
  grep -qv '^dslim: ' "$TMP/cmd.err" && fail "$name: stray output: $(cat "$TMP/cmd.err")"
  E2E_STDERR=$(tail -n 1 "$TMP/cmd.err")
  grep -Eq -- "$pattern" <<<"$E2E_STDERR" || fail "$name: unexpected message: $E2E_STDERR"
  local rss
  rss=$(awk -F': ' '/Maximum resident/ {print $2}' "$TMP/time.log")
  ((rss < 200000)) || fail "$name: peak RSS $rss kB"
  snapshot "$TMP/after.txt"
  diff "$TMP/before.txt" "$TMP/after.txt" >&2 || fail "$name: files appeared outside the cache"
  [[ ! -e /evil && ! -e $TMP/evil && ! -e $HOME/evil ]] || fail "$name: wrote outside the root"
  echo "ok: $name in $((SECONDS - start)) s, peak RSS $rss kB"
}

LD=lib64/ld-linux-x86-64.so.2
# Paths: an absolute entry lands in the root (a chroot's "/"), here replacing
# the loader; a "../" one is refused.
make_layer abs "file:/$LD:not an ELF"
hostile abs-entry "/$LD.*(ELF|too short)" --from "oci:$L:abs"
make_layer dotdot file:lib64/../../evil:x
hostile dotdot-entry 'entry lib64/\.\./\.\./evil escapes the root' --from "oci:$L:dotdot"

# Symlinks out of the root, relative and absolute, to where this machine has
# a loader: resolved inside the image, where there is none.
make_layer relout "sym:$LD:../../../../../../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
hostile symlink-relative "$LD.*not found" --from "oci:$L:relout"
make_layer absout "sym:$LD:/../../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
hostile symlink-absolute "$LD.*not found" --from "oci:$L:absout"

# Symlink loops: a two-link cycle and a 1000-deep chain; the chain resolves
# once --max-symlink-hops allows it (and then the loader is missing).
make_layer cycle sym:lib64:lib64b sym:lib64b:lib64
hostile symlink-cycle 'too many levels of symbolic links.*--max-symlink-hops' --from "oci:$L:cycle"
chain=(dir:x sym:lib64:x/l0)
for ((i = 0; i < 999; i++)); do chain+=("sym:x/l$i:l$((i + 1))"); done
chain+=("sym:x/l999:/nowhere")
make_layer chain "${chain[@]}"
hostile symlink-chain 'more than 40, a loop\? --max-symlink-hops' --from "oci:$L:chain"
hostile symlink-chain-raised "$LD.*not found" --from "oci:$L:chain" --max-symlink-hops 2000

# A hardlink to a path outside the image: relative is refused, absolute
# names a path inside the root that the layer does not hold.
make_layer hardrel "hard:$LD:../../etc/passwd"
hostile hardlink-dotdot 'escapes the root' --from "oci:$L:hardrel"
make_layer hardabs "hard:$LD:/etc/passwd"
hostile hardlink-absolute 'hardlink|/etc/passwd|not found' --from "oci:$L:hardabs"

# Device nodes and FIFOs where the loader should be: never opened (a FIFO
# would block), refused as not a regular file.
make_layer fifo "fifo:$LD"
hostile fifo 'not a regular file|not found' --from "oci:$L:fifo"
make_layer chr "chr:$LD"
hostile device 'not a regular file|not found' --from "oci:$L:chr"

# A header claiming a 100 GB file with 5 bytes behind it.
make_layer big "bigfile:$LD"
hostile size-lie 'truncated|damaged|corrupt' --from "oci:$L:big"

# A gzip bomb: 2 MB of gzip members inflating to 16 GiB of zeros, stopped at
# --max-layer-size (the default, 8 GiB, would take minutes of disk writes).
python3 - "$TMP/bomb.tar.gz" <<'PY'
import gzip, sys, tarfile, zlib
info = tarfile.TarInfo("bomb")
info.size = 16 << 30
chunk = bytes(64 << 20)
def member(data):
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    return c.compress(data) + c.flush()
zeros = member(chunk)
with open(sys.argv[1], "wb") as f:
    f.write(member(info.tobuf(tarfile.PAX_FORMAT)))
    for _ in range(256):
        f.write(zeros)
PY
bomb_size=$(stat -c %s "$TMP/bomb.tar.gz")
((bomb_size < 20000000)) || fail "the bomb is $bomb_size bytes"
python3 - "$L" "$TMP/bomb.tar.gz" <<'PY'
import hashlib, json, os, shutil, sys
layout, bomb = sys.argv[1:]
def put(data):
    d = hashlib.sha256(data).hexdigest()
    with open(f"{layout}/blobs/sha256/{d}", "wb") as f:
        f.write(data)
    return "sha256:" + d, len(data)
data = open(bomb, "rb").read()
layer, size = put(data)
cfg, csize = put(json.dumps({"architecture": "amd64", "os": "linux",
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "0" * 64]}}).encode())
man, msize = put(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfg, "size": csize},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer, "size": size}]}).encode())
index = json.load(open(f"{layout}/index.json"))
index["manifests"].append({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": man,
    "size": msize, "annotations": {"org.opencontainers.image.ref.name": "bomb"}})
json.dump(index, open(f"{layout}/index.json", "w"))
PY
hostile gzip-bomb 'inflates to more than 268435456 bytes.*--max-layer-size' --from "oci:$L:bomb" \
  --max-layer-size 256MiB
hostile gzip-bomb-no-cache 'inflates to more than.*--max-layer-size' --from "oci:$L:bomb" \
  --max-layer-size 256MiB --no-cache
big=$(find "$HOME/.cache" -size +64M)
[[ -z $big ]] || fail "the bomb left large cache files: $(ls -l $big)"

# Duplicate entries: the later one wins, as when unpacking; a junk loader
# after the real one makes the image unusable, and says so.
make_layer dup "file:$LD:junk" "file:$LD:not an ELF either"
hostile duplicate 'ld-linux-x86-64.so.2.*(not an ELF|too short|ELF)' --from "oci:$L:dup"

# A whiteout of "/" (and of its own directory).
make_layer whroot file:.wh.:x
hostile whiteout-root 'whites out the root /' --from "oci:$L:whroot"

# Manifests whose config or layer digest is wrong, and truncated blobs.
manifest_of() { jq -r --arg t "$2" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]==$t) | .digest' "$1/index.json"; }
copy_layout() { rm -rf "$2"; cp -r "$1" "$2"; chmod -R u+w "$2"; }
m=$(manifest_of "$L" dup)
cfg=$(jq -r .config.digest "$L/blobs/sha256/${m#sha256:}")
layer=$(jq -r '.layers[0].digest' "$L/blobs/sha256/${m#sha256:}")
# The manifest names a config whose bytes hash otherwise.
copy_layout "$L" "$TMP/badcfg"
printf ' ' >>"$TMP/badcfg/blobs/sha256/${cfg#sha256:}"
hostile config-digest "${cfg}|digest|size" --from "oci:$TMP/badcfg:dup"
# The manifest names a layer that is not there.
copy_layout "$L" "$TMP/badlayer"
rm "$TMP/badlayer/blobs/sha256/${layer#sha256:}"
hostile layer-missing "${layer}" --from "oci:$TMP/badlayer:dup"
# A truncated manifest and a truncated config.
copy_layout "$L" "$TMP/shortman"
truncate -s 20 "$TMP/shortman/blobs/sha256/${m#sha256:}"
hostile manifest-truncated "${m}|size|digest" --from "oci:$TMP/shortman:dup"
copy_layout "$L" "$TMP/shortcfg"
truncate -s 10 "$TMP/shortcfg/blobs/sha256/${cfg#sha256:}"
hostile config-truncated "${cfg}|size|digest" --from "oci:$TMP/shortcfg:dup"

# An index with no image for the platform asked for.
copy_layout "$L" "$TMP/arm"
python3 - "$TMP/arm" "$m" <<'PY'
import hashlib, json, os, sys
layout, manifest = sys.argv[1:]
size = os.path.getsize(f"{layout}/blobs/sha256/{manifest[7:]}")
index = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
    "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest,
                   "size": size, "platform": {"os": "linux", "architecture": "arm64"}}]}).encode()
digest = hashlib.sha256(index).hexdigest()
open(f"{layout}/blobs/sha256/{digest}", "wb").write(index)
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json",
    "digest": "sha256:" + digest, "size": len(index),
    "annotations": {"org.opencontainers.image.ref.name": "multi"}}]}, open(f"{layout}/index.json", "w"))
PY
hostile no-platform 'linux/amd64' --from "oci:$TMP/arm:multi"

# The other bounds, each named with its flag.
hostile max-entries 'more than 1 entries.*--max-entries' --from "oci:$L:dup" --max-entries 1
hostile max-elf-size 'more than the 1000 allowed.*--max-elf-size' --from "oci:$L:base" \
  --max-elf-size 1000
hostile max-dependency-depth 'more than 1 levels of DT_NEEDED.*--max-dependency-depth' \
  --from "oci:$L:base" --max-dependency-depth 1
[[ ! -e $TMP/out ]] || fail "an output was written: $(ls -R "$TMP/out")"
echo "ok: all hostile images refused"
