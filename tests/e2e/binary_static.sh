#!/usr/bin/env bash
# A static program needs nothing from its source: from an empty root the image
# holds the program alone, and it runs.
source "$(dirname "$0")/../support/e2e.sh"
need skopeo umoci runc jq
mkdir "$TMP/empty"
"$DSLIM" -q binary "$DSLIM_FIXTURE_DIR/bin/hello_static" --from "dir:$TMP/empty" -o "oci:$TMP/img:static" ||
  fail "dslim binary failed"
"$DSLIM" inspect "oci:$TMP/img:static" --format json >"$TMP/inspect.json" || fail "dslim inspect failed"
got=$(jq -r '[.files[].path] | join(" ")' "$TMP/inspect.json")
[[ $got == "/app" ]] || fail "a static image should hold /app only, got: $got"
expect_runs "$TMP/img:static" "hello from dslim"
