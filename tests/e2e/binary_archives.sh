#!/usr/bin/env bash
# oci-archive: and docker-archive: outputs are read by skopeo and by dslim
# inspect, and the docker-archive copy still runs.
source "$(dirname "$0")/../support/e2e.sh"
need skopeo umoci runc jq
app=$DSLIM_FIXTURE_DIR/bin/app_runpath
args=(--add "$DSLIM_FIXTURE_DIR/lib/libx.so.1.2.3:/opt/x/lib/libx.so.1" --dest /opt/x/bin/app_runpath)
"$DSLIM" -q binary "$app" "${args[@]}" -o "oci:$TMP/ref:v1" || fail "oci: output failed"
want=$(image_digest "oci:$TMP/ref:v1")

"$DSLIM" -q binary "$app" "${args[@]}" -o "oci-archive:$TMP/app-oci.tar:v1" || fail "oci-archive: output failed"
[[ -f $TMP/app-oci.tar ]] || fail "no oci-archive written"
got=$(image_digest "oci-archive:$TMP/app-oci.tar:v1") || fail "skopeo cannot read oci-archive:$TMP/app-oci.tar:v1"
[[ $got == "$want" ]] || fail "oci-archive digest $got differs from oci: $want"
"$DSLIM" inspect "oci-archive:$TMP/app-oci.tar:v1" --format json >"$TMP/i1.json" || fail "dslim inspect oci-archive failed"
[[ $(jq -r .manifest_digest "$TMP/i1.json") == "$want" ]] || fail "dslim inspect oci-archive: wrong digest"
jq -e '.files | map(.path) | index("/opt/x/bin/app_runpath")' "$TMP/i1.json" >/dev/null || fail "dslim inspect oci-archive: no /opt/x/bin/app_runpath"
echo "ok: oci-archive $got"

"$DSLIM" -q binary "$app" "${args[@]}" -o "docker-archive:$TMP/app-docker.tar:team/app:1.4" ||
  fail "docker-archive: output failed"
tar -xOf "$TMP/app-docker.tar" manifest.json | jq -e '.[0].RepoTags == ["team/app:1.4"]' >/dev/null ||
  fail "manifest.json lacks RepoTags team/app:1.4"
skopeo_ inspect "docker-archive:$TMP/app-docker.tar" >"$TMP/s.json" || fail "skopeo cannot read docker-archive"
jq -e '.Layers | length == 1' "$TMP/s.json" >/dev/null || fail "docker-archive should have one layer"
"$DSLIM" inspect "docker-archive:$TMP/app-docker.tar" --format json >"$TMP/i2.json" || fail "dslim inspect docker-archive failed"
jq -e '.files | map(.path) | index("/opt/x/bin/app_runpath")' "$TMP/i2.json" >/dev/null || fail "dslim inspect docker-archive: no /opt/x/bin/app_runpath"
"$DSLIM" inspect "docker-archive:$TMP/app-docker.tar:team/app:1.4" >/dev/null || fail "dslim inspect docker-archive:FILE:NAME:TAG failed"
skopeo_ copy -q "docker-archive:$TMP/app-docker.tar" "oci:$TMP/copied:v1" || fail "skopeo copy docker-archive failed"
expect_runs "$TMP/copied:v1" "x=42"
