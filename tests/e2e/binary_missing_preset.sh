#!/usr/bin/env bash
# A preset the source cannot provide (tzdata, certs, shell from an empty root)
# is exit 2 with one line on stderr naming it, and nothing is written.
source "$(dirname "$0")/../support/e2e.sh"
mkdir "$TMP/empty" "$TMP/out"
app=$DSLIM_FIXTURE_DIR/bin/hello_static
for preset in tzdata certs shell; do
  expect_exit 2 "$DSLIM" binary "$app" --with "$preset" --from "dir:$TMP/empty" -o "oci:$TMP/out/layout:v1"
  grep -qF -- "--with $preset" <<<"$E2E_STDERR" || fail "the error should name --with $preset: $E2E_STDERR"
  [[ -z $(ls -A "$TMP/out") ]] || fail "--with $preset left output behind: $(ls -A "$TMP/out")"
done
