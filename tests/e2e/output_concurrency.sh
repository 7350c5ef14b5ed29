#!/usr/bin/env bash
# Concurrency: 8 `dslim binary` runs writing different tags into one oci:
# layout, sharing one cache, all at once; first into a layout none of them
# finds (they race to create it), then into the existing one. Every run
# succeeds, every tag is there and reads back, no blob is corrupt.
source "$(dirname "$0")/../support/e2e.sh"
need skopeo umoci runc jq sha256sum
APP=$DSLIM_FIXTURE_DIR/bin/hello_cpp
L=$TMP/layout

# A source image, so that the 8 runs also fill one layer cache at once.
"$DSLIM" -q binary "$APP" -o "oci:$TMP/src:base" --with shell >/dev/null || fail "source image"
export XDG_CACHE_HOME=$TMP/shared-cache

for round in a b; do
  pids=()
  for ((i = 1; i <= 8; i++)); do
    "$DSLIM" -q binary "$APP" --from "oci:$TMP/src:base" -o "oci:$L:$round$i" --label n=$round$i \
      >"$TMP/digest.$round$i" 2>"$TMP/err.$round$i" &
    pids+=($!)
  done
  for ((i = 1; i <= 8; i++)); do
    wait "${pids[i - 1]}" || fail "run $round$i failed: $(cat "$TMP/err.$round$i")"
    [[ ! -s $TMP/err.$round$i ]] || fail "run $round$i wrote to stderr: $(cat "$TMP/err.$round$i")"
  done
  echo "ok: round $round: 8 runs at once"
done

n=$(jq '.manifests | length' "$L/index.json")
((n == 16)) || fail "expected 16 tags, index.json has $n: $(jq -c . "$L/index.json")"
for round in a b; do
  for ((i = 1; i <= 8; i++)); do
    got=$(image_digest "oci:$L:$round$i") || fail "skopeo cannot read $round$i"
    [[ $got == "$(cat "$TMP/digest.$round$i")" ]] || fail "tag $round$i: $got is not what the run wrote"
  done
done
for blob in "$L"/blobs/sha256/*; do
  [[ $(sha256sum "$blob" | cut -d' ' -f1) == "${blob##*/}" ]] || fail "blob ${blob##*/} is corrupt"
done
for blob in "$XDG_CACHE_HOME"/dslim/blobs/sha256/*; do
  [[ -e $blob ]] || continue
  [[ $(sha256sum "$blob" | cut -d' ' -f1) == "${blob##*/}" ]] || fail "cached blob ${blob##*/} is corrupt"
done
[[ -z $(find "$L" "$XDG_CACHE_HOME" -name '*.tmp-*') ]] || fail "temporary files left: $(find "$L" -name '*.tmp-*')"
[[ -z $(find "$TMP" -maxdepth 1 -name 'layout.tmp-*') ]] || fail "a temporary layout was left"
echo "ok: 16 tags, every blob whole"
expect_runs "$L:a1" "hello from c++ (caught)"
expect_runs "$L:b8" "hello from c++ (caught)"
