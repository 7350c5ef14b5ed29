#!/usr/bin/env bash
# Crash safety (DESIGN.md §5 "Atomicity"): `dslim binary` killed with SIGKILL
# at random moments, 100 times, while it writes tags into one oci: layout.
# Every tag written before stays intact (same digest, every blob whole), the
# layout stays readable by skopeo and umoci, and no temporary name shows up
# as a tag. Killed oci-archive:/docker-archive: runs leave the previous file
# byte-identical.
source "$(dirname "$0")/../support/e2e.sh"
need skopeo umoci jq sha256sum
APP=$DSLIM_FIXTURE_DIR/bin/hello_static
L=$TMP/layout

# One run's length (warm cache) sets the span the kills are spread over.
"$DSLIM" -q binary "$APP" -o "oci:$L:tag0" --label run=0 >"$TMP/digest.0"
start=$(date +%s%N)
"$DSLIM" -q binary "$APP" -o "oci:$L:tag0" --label run=0 >/dev/null
span_us=$((($(date +%s%N) - start) / 1000 + 1))
echo "one run: $((span_us / 1000)) ms"

# SIGKILLs PID after a random delay within one run's span; its exit status
# goes to $rc.
kill_at_random() {
  local delay_us=$(((RANDOM * 32768 + RANDOM) % span_us))
  sleep "$(printf '%d.%06d' $((delay_us / 1000000)) $((delay_us % 1000000)))"
  kill -KILL "$1" 2>/dev/null || true
  rc=0
  wait "$1" || rc=$?
}

declare -A written=([tag0]=$(cat "$TMP/digest.0"))
killed=0
for ((i = 1; i <= 100; i++)); do
  "$DSLIM" -q binary "$APP" -o "oci:$L:tag$i" --label run=$i >"$TMP/digest.$i" 2>"$TMP/err.$i" &
  kill_at_random $!
  if ((rc == 0)); then
    written[tag$i]=$(cat "$TMP/digest.$i")
  else
    ((rc == 137)) || fail "run $i exited $rc: $(cat "$TMP/err.$i")"
    killed=$((killed + 1))
  fi
done
echo "killed $killed of 100 runs; ${#written[@]} tags finished"
((killed >= 10)) || fail "only $killed runs were killed: the delays miss the run"

# The layout: every blob matches its name; the index parses; every tag in it
# is one of ours and reads back through skopeo.
for blob in "$L"/blobs/sha256/*; do
  name=${blob##*/}
  [[ $name == *.tmp-* ]] && continue
  [[ $(sha256sum "$blob" | cut -d' ' -f1) == "$name" ]] || fail "blob $name is corrupt"
done
tags=$(jq -r '.manifests[].annotations["org.opencontainers.image.ref.name"]' "$L/index.json") ||
  fail "index.json does not parse"
while read -r tag; do
  [[ $tag =~ ^tag[0-9]+$ ]] || fail "unexpected tag in index.json: $tag"
done <<<"$tags"
# Every finished tag points at the digest its run printed (jq: fast), and
# skopeo reads every tenth one back (each costs ~0.3 s) and the first.
for tag in "${!written[@]}"; do
  got=$(jq -r --arg t "$tag" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]==$t) | .digest' "$L/index.json")
  [[ $got == "${written[$tag]}" ]] || fail "tag $tag lost or changed: '$got'"
  n=${tag#tag}
  if ((n % 10 == 0)); then
    [[ $(image_digest "oci:$L:$tag") == "${written[$tag]}" ]] || fail "skopeo: tag $tag changed"
  fi
done
umoci --log error ls --layout "$L" >/dev/null || fail "umoci cannot list the layout"
umoci --log error stat --image "$L:tag0" >/dev/null || fail "umoci cannot read tag0"
leftover=$(find "$L" -name '*.tmp-*' | wc -l)
echo "ok: ${#written[@]} tags intact, $leftover temporary files left by killed runs"
expect_runs "$L:tag0" "hello from dslim"

# Archives: the previous file survives every killed run byte for byte.
for form in oci-archive docker-archive; do
  out=$TMP/$form.tar
  "$DSLIM" -q binary "$APP" -o "$form:$out" --label run=first >/dev/null
  sum=$(sha256sum <"$out")
  for ((i = 1; i <= 10; i++)); do
    "$DSLIM" -q binary "$APP" -o "$form:$out" --label run=$i >/dev/null 2>&1 &
    kill_at_random $!
    if ((rc == 0)); then
      sum=$(sha256sum <"$out")  # it finished: the new file is the previous one now
    elif [[ $(sha256sum <"$out") != "$sum" ]]; then
      # Killed after its rename (under the sanitizers, exit-time checks take
      # a while): then the file must be that run's whole output.
      label=$(skopeo_ inspect "$form:$out" | jq -r '.Labels.run') ||
        fail "$form: a killed run left an unreadable $out"
      [[ $label == "$i" ]] || fail "$form: a killed run changed $out (label '$label')"
      sum=$(sha256sum <"$out")
    fi
  done
  skopeo_ inspect "$form:$out" >/dev/null || fail "skopeo cannot read $out"
  echo "ok: $form survives killed runs"
done
