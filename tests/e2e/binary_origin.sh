#!/usr/bin/env bash
# A C program with RUNPATH exactly $ORIGIN and its own library next to it:
# placed at /app/app_origin with the library added at /app/libgreet.so.1, it runs.
source "$(dirname "$0")/../support/e2e.sh"
need skopeo umoci runc jq readelf
bin2=$DSLIM_FIXTURE_DIR/bin2
readelf -d "$bin2/app_origin" | grep -qF 'Library runpath: [$ORIGIN]' ||
  fail "fixture app_origin must have RUNPATH [\$ORIGIN]"

"$DSLIM" -q binary "$bin2/app_origin" --dest /app/app_origin \
  --add "$bin2/libgreet.so.1:/app/libgreet.so.1" -o "oci:$TMP/img:origin" || fail "dslim binary failed"
"$DSLIM" inspect "oci:$TMP/img:origin" --format json >"$TMP/inspect.json" || fail "dslim inspect failed"
jq -e '[.files[].path] | index("/app/libgreet.so.1") and index("/app/app_origin")' "$TMP/inspect.json" >/dev/null ||
  fail "image lacks /app/app_origin or /app/libgreet.so.1: $(jq -c '[.files[].path]' "$TMP/inspect.json")"
expect_runs "$TMP/img:origin" "greetings from \$ORIGIN"

# Without its library the program cannot be satisfied: exit 2, nothing written.
expect_exit 2 "$DSLIM" -q binary "$bin2/app_origin" --dest /app/app_origin -o "oci:$TMP/none:origin"
grep -qF libgreet.so.1 <<<"$E2E_STDERR" || fail "the error should name libgreet.so.1: $E2E_STDERR"
[[ ! -e $TMP/none ]] || fail "a failed run left $TMP/none behind"
