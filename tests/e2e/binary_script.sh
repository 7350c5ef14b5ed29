#!/usr/bin/env bash
# A #!/bin/sh script brings its interpreter (dash here) and libc from dir:/.
source "$(dirname "$0")/../support/e2e.sh"
need skopeo umoci runc jq
"$DSLIM" -q binary "$DSLIM_FIXTURE_DIR/bin/hello.sh" --from dir:/ -o "oci:$TMP/img:sh" ||
  fail "dslim binary failed"
"$DSLIM" inspect "oci:$TMP/img:sh" --format json >"$TMP/inspect.json" || fail "dslim inspect failed"
jq -e '[.files[].path] | index("/bin/sh") or index("/usr/bin/sh")' "$TMP/inspect.json" >/dev/null ||
  fail "the image lacks /bin/sh: $(jq -c '[.files[].path]' "$TMP/inspect.json")"
expect_runs "$TMP/img:sh" "hello from sh"
