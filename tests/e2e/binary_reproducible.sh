#!/usr/bin/env bash
# Same inputs give the same manifest digest (and identical blobs); another
# SOURCE_DATE_EPOCH gives another digest, with that epoch as `created`.
source "$(dirname "$0")/../support/e2e.sh"
need skopeo jq
app=$DSLIM_FIXTURE_DIR/bin/app_runpath
args=(--add "$DSLIM_FIXTURE_DIR/lib/libx.so.1.2.3:/opt/x/lib/libx.so.1" --dest /opt/x/bin/app_runpath --env LANG=C.UTF-8)
# libx.so.1 is found via $ORIGIN/../lib = /opt/x/lib.
unset SOURCE_DATE_EPOCH
"$DSLIM" -q binary "$app" "${args[@]}" -o "oci:$TMP/a:v1" || fail "first run failed"
"$DSLIM" -q binary "$app" "${args[@]}" -o "oci:$TMP/b:v1" || fail "second run failed"
da=$(image_digest "oci:$TMP/a:v1") db=$(image_digest "oci:$TMP/b:v1")
[[ $da == sha256:* && $da == "$db" ]] || fail "two runs differ: $da vs $db"
diff -r "$TMP/a/blobs" "$TMP/b/blobs" >/dev/null || fail "two runs wrote different blobs"
echo "ok: two runs give $da"

SOURCE_DATE_EPOCH=1700000000 "$DSLIM" -q binary "$app" "${args[@]}" -o "oci:$TMP/c:v1" || fail "run with SOURCE_DATE_EPOCH failed"
dc=$(image_digest "oci:$TMP/c:v1")
[[ $dc != "$da" ]] || fail "SOURCE_DATE_EPOCH=1700000000 gave the same digest $dc"
created=$(skopeo_ inspect "oci:$TMP/c:v1" | jq -r .Created)
[[ $created == 2023-11-14T22:13:20Z ]] || fail "created should be 2023-11-14T22:13:20Z, got $created"
SOURCE_DATE_EPOCH=1700000000 "$DSLIM" -q binary "$app" "${args[@]}" -o "oci:$TMP/d:v1" || fail "second run with SOURCE_DATE_EPOCH failed"
[[ $(image_digest "oci:$TMP/d:v1") == "$dc" ]] || fail "SOURCE_DATE_EPOCH=1700000000 is not reproducible"
echo "ok: SOURCE_DATE_EPOCH=1700000000 gives $dc"
