#!/usr/bin/env bash
# A C++ program (libstdc++, libgcc_s for its exception) from dir:/ runs in runc.
source "$(dirname "$0")/../support/e2e.sh"
need skopeo umoci runc jq
"$DSLIM" -q binary "$DSLIM_FIXTURE_DIR/bin/hello_cpp" -o "oci:$TMP/img:cpp" || fail "dslim binary failed"
expect_runs "$TMP/img:cpp" "hello from c++ (caught)"
