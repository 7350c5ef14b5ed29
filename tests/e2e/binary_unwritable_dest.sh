#!/usr/bin/env bash
# An output that cannot be written is exit 2 with one line on stderr, and no
# partial output is left where it could be.
source "$(dirname "$0")/../support/e2e.sh"
app=$DSLIM_FIXTURE_DIR/bin/hello_static
expect_exit 2 "$DSLIM" binary "$app" -o oci:/proc/nope
grep -qF /proc/nope <<<"$E2E_STDERR" || fail "the error should name /proc/nope: $E2E_STDERR"
expect_exit 2 "$DSLIM" binary "$app" -o oci-archive:/proc/nope.tar
expect_exit 2 "$DSLIM" binary "$app" -o docker-archive:/proc/nope.tar
# A read-only directory (root ignores mode bits, so use a file in the way).
mkdir "$TMP/out"
echo "a file" >"$TMP/out/blocker"
expect_exit 2 "$DSLIM" binary "$app" -o "oci:$TMP/out/blocker/layout:v1"
expect_exit 2 "$DSLIM" binary "$app" -o "oci-archive:$TMP/out/blocker/a.tar"
[[ $(ls -A "$TMP/out") == blocker && $(cat "$TMP/out/blocker") == "a file" ]] ||
  fail "a failed run changed $TMP/out: $(ls -A "$TMP/out")"
