#!/usr/bin/env bash
# dslim inspect --max-size gates on an existing image: exit 3 when larger, 0 otherwise.
source "$(dirname "$0")/../support/e2e.sh"
"$DSLIM" -q binary "$DSLIM_FIXTURE_DIR/bin/hello_static" -o "oci:$TMP/img:v1" || fail "dslim binary failed"
"$DSLIM" -q binary "$DSLIM_FIXTURE_DIR/bin/hello_static" -o "oci-archive:$TMP/img.tar" || fail "dslim binary failed"
for ref in "oci:$TMP/img:v1" "oci-archive:$TMP/img.tar"; do
  rc=0
  "$DSLIM" inspect "$ref" --max-size 1KB >/dev/null 2>"$TMP/stderr" || rc=$?
  ((rc == 3)) || fail "inspect $ref --max-size 1KB: expected exit 3, got $rc: $(cat "$TMP/stderr")"
  [[ $(wc -l <"$TMP/stderr") -eq 1 ]] || fail "expected one stderr line, got: $(cat "$TMP/stderr")"
  echo "ok: exit 3: $(cat "$TMP/stderr")"
  "$DSLIM" inspect "$ref" --max-size 10MB >/dev/null || fail "inspect $ref --max-size 10MB should pass"
done
# An image that is not there is bad input.
expect_exit 2 "$DSLIM" inspect "oci:$TMP/nothing:v1"
expect_exit 2 "$DSLIM" inspect "oci:$TMP/img:nosuchtag"
