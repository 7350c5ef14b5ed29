#!/usr/bin/env bash
# --max-size below the image's size is exit 3 and writes nothing; above it, 0.
source "$(dirname "$0")/../support/e2e.sh"
mkdir "$TMP/out"
app=$DSLIM_FIXTURE_DIR/bin/hello_static
for dest in "oci:$TMP/out/layout:v1" "oci-archive:$TMP/out/a.tar" "docker-archive:$TMP/out/d.tar:x/y:1"; do
  rc=0
  "$DSLIM" binary "$app" --max-size 1KB -o "$dest" >"$TMP/stdout" 2>"$TMP/stderr" || rc=$?
  ((rc == 3)) || fail "--max-size 1KB -> $dest: expected exit 3, got $rc: $(cat "$TMP/stderr")"
  [[ $(wc -l <"$TMP/stderr") -eq 1 ]] || fail "expected one stderr line, got: $(cat "$TMP/stderr")"
  [[ -z $(ls -A "$TMP/out") ]] || fail "--max-size 1KB -> $dest wrote: $(ls -A "$TMP/out")"
  echo "ok: exit 3: $(cat "$TMP/stderr")"
done
# An existing tag is left as it was.
"$DSLIM" -q binary "$app" -o "oci:$TMP/out/layout:v1" || fail "writing v1 failed"
before=$(cat "$TMP/out/layout/index.json")
rc=0
"$DSLIM" -q binary "$app" --label x=y --max-size 1KB -o "oci:$TMP/out/layout:v1" 2>/dev/null || rc=$?
((rc == 3)) || fail "expected exit 3, got $rc"
[[ $(cat "$TMP/out/layout/index.json") == "$before" ]] || fail "--max-size failure changed index.json"
"$DSLIM" -q binary "$app" --max-size 10MB -o "oci:$TMP/out/layout:v2" || fail "--max-size 10MB should pass"
"$DSLIM" -q binary "$app" --max-size 1MiB -o "oci:$TMP/out/layout:v3" || fail "--max-size 1MiB should pass (~330 kB image)"
