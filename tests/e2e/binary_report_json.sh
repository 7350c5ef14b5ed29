#!/usr/bin/env bash
# --report json is one JSON document on stdout with totals that match the image.
source "$(dirname "$0")/../support/e2e.sh"
need jq skopeo
"$DSLIM" binary "$DSLIM_FIXTURE_DIR/bin/hello_cpp" --report json -o "oci:$TMP/img:v1" >"$TMP/report.json" ||
  fail "dslim binary --report json failed"
jq -e . "$TMP/report.json" >/dev/null || fail "the report is not JSON: $(head -c 300 "$TMP/report.json")"
jq -e '.totals | (.image_bytes > 0) and (.layer_bytes > 0) and (.files >= 5) and (.uncompressed_bytes > .layer_bytes)' \
  "$TMP/report.json" >/dev/null || fail "bad totals: $(jq -c .totals "$TMP/report.json")"
[[ $(jq -r .manifest_digest "$TMP/report.json") == "$(image_digest "oci:$TMP/img:v1")" ]] ||
  fail "report manifest_digest differs from skopeo's"
layer=$(jq -r '.layers[0].digest' "$TMP/report.json")
blob=$TMP/img/blobs/sha256/${layer#sha256:}
[[ $(jq -r '.layers[0].size' "$TMP/report.json") == "$(stat -c %s "$blob")" ]] || fail "layer size differs from the blob"
[[ $(jq -r '.totals.layer_bytes' "$TMP/report.json") == "$(stat -c %s "$blob")" ]] || fail "totals.layer_bytes differs from the blob"
jq -e '[.files[].path] | index("/app")' "$TMP/report.json" >/dev/null || fail "report lacks /app"
jq -e '[.files[].path | select(test("libstdc\\+\\+"))] | length > 0' "$TMP/report.json" >/dev/null || fail "report lacks libstdc++"
# The same totals from dslim inspect.
"$DSLIM" inspect "oci:$TMP/img:v1" --format json >"$TMP/inspect.json" || fail "dslim inspect failed"
[[ $(jq -c .totals "$TMP/inspect.json") == "$(jq -c .totals "$TMP/report.json")" ]] ||
  fail "inspect totals $(jq -c .totals "$TMP/inspect.json") differ from report $(jq -c .totals "$TMP/report.json")"
