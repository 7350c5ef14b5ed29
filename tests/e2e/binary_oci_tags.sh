#!/usr/bin/env bash
# Writing a second tag into an oci: layout keeps the first; rewriting a tag
# replaces only that tag.
source "$(dirname "$0")/../support/e2e.sh"
need skopeo umoci runc jq
app=$DSLIM_FIXTURE_DIR/bin/hello_static
"$DSLIM" -q binary "$app" -o "oci:$TMP/layout:v1" || fail "writing v1 failed"
d1=$(image_digest "oci:$TMP/layout:v1")
"$DSLIM" -q binary "$app" --label version=2 -o "oci:$TMP/layout:v2" || fail "writing v2 failed"
d2=$(image_digest "oci:$TMP/layout:v2")
[[ $d1 != "$d2" ]] || fail "v1 and v2 should differ (label)"
[[ $(image_digest "oci:$TMP/layout:v1") == "$d1" ]] || fail "v1 changed or vanished after writing v2"
tags=$(jq -r '[.manifests[].annotations["org.opencontainers.image.ref.name"]] | sort | join(" ")' "$TMP/layout/index.json")
[[ $tags == "v1 v2" ]] || fail "index.json should name v1 and v2, got: $tags"
[[ $(skopeo_ inspect "oci:$TMP/layout:v2" | jq -r '.Labels.version') == 2 ]] || fail "v2 lacks its label"

# Rewriting v1 keeps v2 and leaves one entry per tag.
"$DSLIM" -q binary "$app" --label version=1 -o "oci:$TMP/layout:v1" || fail "rewriting v1 failed"
d1b=$(image_digest "oci:$TMP/layout:v1")
[[ $d1b != "$d1" ]] || fail "rewritten v1 should have a new digest"
[[ $(image_digest "oci:$TMP/layout:v2") == "$d2" ]] || fail "v2 changed after rewriting v1"
tags=$(jq -r '[.manifests[].annotations["org.opencontainers.image.ref.name"]] | sort | join(" ")' "$TMP/layout/index.json")
[[ $tags == "v1 v2" ]] || fail "after rewriting v1 index.json names: $tags"
expect_runs "$TMP/layout:v1" "hello from dslim"
expect_runs "$TMP/layout:v2" "hello from dslim"
