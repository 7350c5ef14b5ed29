#!/usr/bin/env bash
# A musl program from a musl root (its loader and its library there) runs.
source "$(dirname "$0")/../support/e2e.sh"
need skopeo umoci runc jq
loader=$(readlink -f /lib/ld-musl-x86_64.so.1) || true
[[ -f $loader ]] || fail "the musl loader /lib/ld-musl-x86_64.so.1 is missing (package musl)"
root=$TMP/muslroot
mkdir -p "$root/lib" "$root/usr/lib"
cp "$loader" "$root/lib/ld-musl-x86_64.so.1"
cp "$DSLIM_FIXTURE_DIR/lib/libx_musl.so" "$root/usr/lib/libx_musl.so"

"$DSLIM" -q binary "$DSLIM_FIXTURE_DIR/bin/hello_musl" --from "dir:$root" -o "oci:$TMP/img:musl" ||
  fail "dslim binary failed"
"$DSLIM" inspect "oci:$TMP/img:musl" --format json >"$TMP/inspect.json" || fail "dslim inspect failed"
got=$(jq -r '[.files[] | select(.type == "file") | .path] | sort | join(" ")' "$TMP/inspect.json")
[[ $got == "/app /lib/ld-musl-x86_64.so.1 /usr/lib/libx_musl.so" ]] || fail "unexpected files: $got"
expect_runs "$TMP/img:musl" "x=42"
