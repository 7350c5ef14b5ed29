#!/usr/bin/env bash
# dslim image from every kind of source: the Python app image (app_image,
# from the benchmark image) as oci:, oci-archive:, docker-archive: and
# pushed by skopeo to a docker-registry on 127.0.0.1 slims to the same image
# (same digest, printed alone by -q), and each report names its source. The
# slim image pushed to the registry (-o docker://) has that digest too, and
# pulled back by skopeo it runs under runc as the original does.
source "$(dirname "$0")/../support/e2e.sh"
need skopeo umoci runc jq tar
export SOURCE_DATE_EPOCH=1700000000 # fixed, and not the default
test_image
L=$TMP/layout
bench_layout "$L"
app_image "$L" app

start_registry
R=$REGISTRY
skopeo_ copy -q "oci:$L:app" "oci-archive:$TMP/app.tar" || fail "skopeo copy to oci-archive failed"
skopeo_ copy -q "oci:$L:app" "docker-archive:$TMP/app-docker.tar:team/app:1" || fail "skopeo copy to docker-archive failed"
skopeo_ copy -q --dest-tls-verify=false "oci:$L:app" "docker://$R/team/app:1" || fail "skopeo push failed"

# The same slim image from each; -q prints its digest and nothing else.
want=""
n=0
for src in "oci:$L:app" "oci-archive:$TMP/app.tar" "docker-archive:$TMP/app-docker.tar" "docker://$R/team/app:1"; do
  n=$((n + 1))
  got=$("$DSLIM" -q image "$src" -o "oci:$TMP/out:$n" 2>"$TMP/err") || fail "dslim image $src failed: $(cat "$TMP/err")"
  [[ $got =~ ^sha256:[0-9a-f]{64}$ ]] || fail "$src: -q printed '$got', want the digest only"
  [[ ! -s $TMP/err ]] || fail "$src: -q wrote on stderr: $(cat "$TMP/err")"
  [[ $got == "$(image_digest "oci:$TMP/out:$n")" ]] || fail "$src: -q printed $got, skopeo sees $(image_digest "oci:$TMP/out:$n")"
  [[ -z $want || $got == "$want" ]] || fail "$src: digest $got, from oci:$L:app $want"
  want=$got
  # The report names the source as given.
  "$DSLIM" image "$src" --report json -o "oci:$TMP/json:$n" >"$TMP/report.json" 2>"$TMP/err" ||
    fail "dslim image $src --report json failed: $(cat "$TMP/err")"
  jq -e --arg s "$src" --arg d "$want" '.source.ref == $s and .source.image_bytes > 0 and .manifest_digest == $d' \
    "$TMP/report.json" >/dev/null || fail "$src: the json report says $(jq -c '{source, manifest_digest}' "$TMP/report.json")"
  echo "ok: $src: $got"
done
created=$(skopeo_ inspect --config "oci:$TMP/out:1" | jq -r .created)
[[ $created == 2023-11-14T22:13:20Z ]] || fail "created is $created, want SOURCE_DATE_EPOCH's 2023-11-14T22:13:20Z"

# The same size of the source, oci: or in the registry (the same manifest):
# its manifest, config and layers.
manifest=$(skopeo_ inspect --raw "oci:$L:app" | wc -c)
bytes=$(skopeo_ inspect --raw "oci:$L:app" | jq --argjson m "$manifest" '$m + .config.size + ([.layers[].size] | add)')
for src in "oci:$L:app" "docker://$R/team/app:1"; do
  "$DSLIM" image "$src" --report json -o "oci:$TMP/bytes:t" >"$TMP/report.json" || fail "dslim image $src failed"
  [[ $(jq .source.image_bytes "$TMP/report.json") == "$bytes" ]] ||
    fail "$src: source.image_bytes $(jq .source.image_bytes "$TMP/report.json"), want $bytes"
done
echo "ok: source.image_bytes is the manifest, config and layers, from oci: and docker://"

# Pushed: the registry has the digest -q printed; skopeo pulls it back and
# it runs as the original (umoci unpack of the original for its own run).
pushed=$("$DSLIM" -q image "docker://$R/team/app:1" -o "docker://$R/team/app-slim:1") || fail "dslim image push failed"
[[ $pushed == "$want" ]] || fail "pushed $pushed, want $want"
[[ $(skopeo_ inspect --tls-verify=false "docker://$R/team/app-slim:1" | jq -r .Digest) == "$want" ]] ||
  fail "the registry's digest is not $want"
skopeo_ copy -q --src-tls-verify=false "docker://$R/team/app-slim:1" "oci:$TMP/pulled:1" || fail "skopeo pull failed"
unpack_bundle "$TMP/pulled:1" "$TMP/slim"
out=$(run_bundle "$TMP/slim") || fail "the pulled slim image failed under runc: $(cat "$TMP/run.err")"
unpack_bundle "$L:app" "$TMP/orig"
orig=$(run_bundle "$TMP/orig") || fail "the original failed under runc: $(cat "$TMP/run.err")"
[[ $out == "$orig" ]] || fail "the pulled slim image printed '$out', the original '$orig'"
echo "ok: pushed, pulled by skopeo, runs under runc as the original: $(tr '\n' '|' <<<"$out")"
