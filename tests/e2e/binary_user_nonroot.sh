#!/usr/bin/env bash
# --user nonroot --with passwd: the config names the user, the runtime maps it
# to 65532, and the program really runs as uid 65532 (/usr/bin/id -u).
source "$(dirname "$0")/../support/e2e.sh"
need skopeo umoci runc jq
id_bin=$(command -v id)
"$DSLIM" -q binary "$id_bin" --with passwd --user nonroot --cmd '["-u"]' -o "oci:$TMP/img:v1" ||
  fail "dslim binary --user nonroot failed"
# The passwd preset adds an empty /root and /home/nonroot: nothing of this
# machine's own /root (keys, credentials) may come along.
"$DSLIM" inspect "oci:$TMP/img:v1" --format json >"$TMP/inspect.json" || fail "dslim inspect failed"
leaks=$(jq -r '.files[].path | select(test("^/(root|home/nonroot|tmp)/."))' "$TMP/inspect.json" | head -5)
[[ -z $leaks ]] || fail "this machine's files leaked into the image: $leaks"
user=$(skopeo_ inspect --config "oci:$TMP/img:v1" | jq -r .config.User)
[[ $user == nonroot || $user == 65532 || $user == 65532:65532 ]] || fail "config User is '$user'"
unpack_bundle "$TMP/img:v1" "$TMP/bundle"
[[ $(jq -r .process.user.uid "$TMP/bundle/config.json") == 65532 ]] ||
  fail "umoci maps the user to uid $(jq -r .process.user.uid "$TMP/bundle/config.json"), want 65532"
[[ $(jq -r .process.user.gid "$TMP/bundle/config.json") == 65532 ]] || fail "gid is not 65532"
out=$(run_bundle "$TMP/bundle") || fail "runc run failed: $(cat "$TMP/run.err")"
[[ $out == 65532 ]] || fail "id -u printed '$out', want 65532"
echo "ok: runs as uid $out"

# A numeric user needs no passwd.
"$DSLIM" -q binary "$id_bin" --user 1234:1234 --cmd '["-u"]' -o "oci:$TMP/img:num" || fail "--user 1234:1234 failed"
expect_runs "$TMP/img:num" 1234
