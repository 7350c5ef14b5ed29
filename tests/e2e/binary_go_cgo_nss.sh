#!/usr/bin/env bash
# A Go program using glibc's resolver (cgo, netcgo) resolves "localhost" with
# --with nss, and with no flag (getaddrinfo is imported: nss is inferred), and
# fails to with --without nss (no nsswitch.conf, /etc/hosts).
source "$(dirname "$0")/../support/e2e.sh"
need skopeo umoci runc jq
app=$DSLIM_FIXTURE_DIR/bin/lookup_cgo

"$DSLIM" -q binary "$app" --with nss -o "oci:$TMP/img:nss" || fail "dslim binary --with nss failed"
"$DSLIM" inspect "oci:$TMP/img:nss" --format json >"$TMP/inspect.json" || fail "dslim inspect failed"
jq -e '[.files[].path] | index("/etc/nsswitch.conf") and index("/etc/hosts")' "$TMP/inspect.json" >/dev/null ||
  fail "--with nss lacks /etc/nsswitch.conf or /etc/hosts"
expect_runs "$TMP/img:nss" "resolved localhost: [127.0.0.1]"

"$DSLIM" binary "$app" -o "oci:$TMP/img:inferred" >"$TMP/inferred.txt" || fail "dslim binary with no flag failed"
grep -q '^inferred nss .*imports getaddrinfo' "$TMP/inferred.txt" || fail "nss not reported as inferred: $(cat "$TMP/inferred.txt")"
expect_runs "$TMP/img:inferred" "resolved localhost: [127.0.0.1]"

"$DSLIM" -q binary "$app" --without nss -o "oci:$TMP/img:plain" || fail "dslim binary --without nss failed"
skopeo_ inspect "oci:$TMP/img:plain" >/dev/null || fail "skopeo cannot read the image"
unpack_bundle "$TMP/img:plain" "$TMP/plain"
rc=0
out=$(run_bundle "$TMP/plain") || rc=$?
((rc != 0)) || fail "with --without nss the lookup should fail, but it printed: $out"
grep -q 'lookup localhost failed' "$TMP/run.err" || fail "unexpected failure: $(cat "$TMP/run.err")"
echo "ok: without nss: $(cat "$TMP/run.err")"
