#!/usr/bin/env bash
# SBOMs attached to the image they describe (OCI image-spec 1.1 referrers),
# and `dslim inspect --sbom`. curl is picked from the benchmark image (Debian
# bookworm, scripts/make-bench-image).
#  1. -o oci: each --sbom-out document is also an untagged index.json entry
#     (artifactType; its manifest's subject is the image; its one layer the
#     file's bytes); umoci still sees one tag; --no-sbom-attach adds none.
#  2. -o docker:// to Debian's docker-registry (no referrers API): the
#     documents are found under the sha256-<hex> fallback tag, an index whose
#     entries' manifests name the image as subject, their layers the files'
#     bytes; a push of the same image elsewhere adds to that list, a repeat
#     adds nothing.
#  3. dslim inspect --sbom lists what dpkg-query sees in the image: from its
#     dpkg status, and for an image written --no-package-metadata from the SBOM
#     attached to it (oci: and docker://); an image with neither says so.
#  4. docker-archive: cannot hold them: a warning, the files still written.
source "$(dirname "$0")/../support/e2e.sh"
need skopeo umoci jq dpkg-query python3 cmp
export LC_ALL=C
unset SOURCE_DATE_EPOCH
test_image
SRC=oci:$TEST_IMAGE/layout:bench

# artifacts INDEX_JSON SUBJECT BLOBS: "artifactType<TAB>layer digest" of each
# entry of INDEX_JSON whose manifest (read from BLOBS/HEX, or fetched with
# skopeo when BLOBS is a docker:// repository) names SUBJECT; fails on an
# entry that names another.
artifacts() {
  local index=$1 subject=$2 where=$3 m manifest
  for m in $(jq -r '.manifests[] | select(.artifactType) | .digest' "$index"); do
    if [[ $where == docker://* ]]; then
      manifest=$(skopeo_ inspect --tls-verify=false --raw "$where@$m")
    else
      manifest=$(cat "$where/${m#sha256:}")
    fi
    [[ $(jq -r .subject.digest <<<"$manifest") == "$subject" ]] ||
      fail "artifact $m names $(jq -r .subject.digest <<<"$manifest"), not $subject"
    [[ $(jq -r .config.mediaType <<<"$manifest") == application/vnd.oci.empty.v1+json ]] ||
      fail "artifact $m: config $(jq -c .config <<<"$manifest")"
    jq -r '[.artifactType, .layers[0].digest] | @tsv' <<<"$manifest"
  done | sort
}

# same_bytes TYPE FILE LIST GET: the layer of LIST's TYPE entry, fetched by
# `GET DIGEST`, holds FILE's bytes.
same_bytes() {
  local d
  d=$(awk -F'\t' -v t="$1" '$1 == t { print $2 }' "$3")
  [[ -n $d ]] || fail "no $1 artifact in $(cat "$3")"
  cmp -s "$2" <($4 "$d") || fail "the $1 artifact's layer $d is not ${2##*/}"
}
layout_blob() { cat "$LAYOUT/blobs/sha256/${1#sha256:}"; }
registry_blob() {
  python3 -c 'import sys, urllib.request; sys.stdout.buffer.write(urllib.request.urlopen(sys.argv[1]).read())' \
    "http://$REGISTRY/v2/team/curl/blobs/$1"
}

# packages_of REF: "name<TAB>version" of `dslim inspect REF --sbom`; its
# origin in ORIGIN.
packages_of() {
  "$DSLIM" inspect "$1" --sbom --format json >"$TMP/inspect.json" 2>"$TMP/inspect.err" ||
    fail "dslim inspect $1 --sbom failed: $(cat "$TMP/inspect.err")"
  ORIGIN=$(jq -r '.origin // ""' "$TMP/inspect.json")
  jq -r '.packages[] | [.name, .version] | @tsv' "$TMP/inspect.json" | sort
}

# --- 1. oci: ---------------------------------------------------------------------
LAYOUT=$TMP/out
"$DSLIM" binary --pick /usr/bin/curl --from "$SRC" -o "oci:$LAYOUT:curl" \
  --sbom-out "$TMP/curl.spdx.json" --sbom-out "$TMP/curl.cdx.json" >"$TMP/curl.txt" 2>"$TMP/curl.err" ||
  fail "dslim binary curl failed: $(cat "$TMP/curl.err")"
D=$(image_digest "oci:$LAYOUT:curl")
artifacts "$LAYOUT/index.json" "$D" "$LAYOUT/blobs/sha256" >"$TMP/oci.list"
[[ $(cut -f1 "$TMP/oci.list" | tr '\n' ' ') == "application/spdx+json application/vnd.cyclonedx+json " ]] ||
  fail "oci: the attached artifacts are not one SPDX and one CycloneDX document: $(cat "$TMP/oci.list")"
same_bytes application/spdx+json "$TMP/curl.spdx.json" "$TMP/oci.list" layout_blob
same_bytes application/vnd.cyclonedx+json "$TMP/curl.cdx.json" "$TMP/oci.list" layout_blob
[[ $(jq '[.manifests[] | select(.artifactType) | .annotations["org.opencontainers.image.ref.name"] // empty] | length' "$LAYOUT/index.json") == 0 ]] ||
  fail "oci: an attached SBOM carries a tag"
grep -q "^attached curl.spdx.json (sha256:" "$TMP/curl.txt" || fail "the report does not say the SPDX document was attached: $(tail -3 "$TMP/curl.txt")"
[[ $(umoci ls --layout "$LAYOUT") == curl ]] || fail "umoci ls: $(umoci ls --layout "$LAYOUT")"
echo "ok: oci: both SBOMs are untagged referrers of $D holding the files' bytes; umoci sees the one tag"

"$DSLIM" binary --pick /usr/bin/curl --from "$SRC" -o "oci:$TMP/bare:curl" --no-sbom-attach \
  --sbom-out "$TMP/bare.spdx.json" >/dev/null 2>"$TMP/bare.err" || fail "--no-sbom-attach: $(cat "$TMP/bare.err")"
[[ -f $TMP/bare.spdx.json && $(jq '.manifests | length' "$TMP/bare/index.json") == 1 ]] ||
  fail "--no-sbom-attach: $(jq -c . "$TMP/bare/index.json")"
echo "ok: --no-sbom-attach: the file, no referrer"

# --- 3 (oci:). inspect --sbom ------------------------------------------------------
umoci --log error unpack --image "$LAYOUT:curl" "$TMP/bundle" >/dev/null || fail "umoci unpack failed"
dpkg-query --admindir="$TMP/bundle/rootfs/var/lib/dpkg" -W -f '${Package}\t${Version}\n' | sort >"$TMP/want"
(($(wc -l <"$TMP/want") > 3)) || fail "dpkg-query sees only $(wc -l <"$TMP/want") packages in the image"
packages_of "oci:$LAYOUT:curl" >"$TMP/got"
[[ $ORIGIN == /var/lib/dpkg/status ]] || fail "inspect --sbom: origin '$ORIGIN', want the dpkg status"
diff "$TMP/want" "$TMP/got" >"$TMP/diff" || fail "inspect --sbom (+) is not dpkg-query (-): $(cat "$TMP/diff")"
"$DSLIM" inspect "oci:$LAYOUT:curl" --sbom >"$TMP/inspect.txt" || fail "inspect --sbom (text) failed"
grep -q "^packages: $(wc -l <"$TMP/want"), from /var/lib/dpkg/status$" "$TMP/inspect.txt" &&
  grep -qE '^NAME +VERSION +ARCH +LICENSE$' "$TMP/inspect.txt" &&
  grep -qE '^libcurl4 +[^ ]+ +amd64 +' "$TMP/inspect.txt" || fail "inspect --sbom text: $(head -8 "$TMP/inspect.txt")"
echo "ok: inspect --sbom: the $(wc -l <"$TMP/want") packages dpkg-query sees, from the image's status"

"$DSLIM" binary --pick /usr/bin/curl --from "$SRC" -o "oci:$LAYOUT:curl-nm" --no-package-metadata \
  --sbom-out "$TMP/nm.cdx.json" >/dev/null 2>"$TMP/nm.err" || fail "--no-package-metadata: $(cat "$TMP/nm.err")"
packages_of "oci:$LAYOUT:curl-nm" >"$TMP/got"
[[ $ORIGIN == "attached SBOM sha256:"*" (application/vnd.cyclonedx+json)" ]] || fail "inspect --sbom -nm: origin '$ORIGIN'"
diff "$TMP/want" "$TMP/got" >"$TMP/diff" || fail "inspect --sbom from the attached SBOM (+) is not dpkg-query (-): $(cat "$TMP/diff")"
echo "ok: inspect --sbom, no metadata in the image: the same packages from its attached CycloneDX SBOM"

# Its own layout: in $LAYOUT the same image (same digest) as curl-nm has that one's SBOM.
"$DSLIM" binary --pick /usr/bin/curl --from "$SRC" -o "oci:$TMP/none:curl" --no-package-metadata >/dev/null 2>&1 ||
  fail "--no-package-metadata without SBOM failed"
"$DSLIM" inspect "oci:$TMP/none:curl" --sbom >"$TMP/none.txt" || fail "inspect --sbom of a bare image failed"
grep -q "^packages: none (no package database in the image, no SBOM attached to it)$" "$TMP/none.txt" ||
  fail "inspect --sbom of a bare image: $(cat "$TMP/none.txt")"
echo "ok: inspect --sbom: an image with neither says so"

# --- 2. docker:// ----------------------------------------------------------------
start_registry
REPO=docker://$REGISTRY/team/curl
push() { # push TAG SBOM...: curl pushed to REPO:TAG with those SBOMs
  local tag=$1 args=() f
  shift
  for f in "$@"; do args+=(--sbom-out "$f"); done
  "$DSLIM" binary --pick /usr/bin/curl --from "$SRC" --no-package-metadata -o "$REPO:$tag" "${args[@]}" \
    >"$TMP/push.txt" 2>"$TMP/push.err" || fail "push to $REPO:$tag failed: $(cat "$TMP/push.err")"
}
push 1 "$TMP/reg.spdx.json" "$TMP/reg.cdx.json"
D=$(skopeo_ inspect --tls-verify=false "$REPO:1" | jq -r .Digest)
skopeo_ inspect --tls-verify=false --raw "$REPO:sha256-${D#sha256:}" >"$TMP/referrers.json" ||
  fail "no referrers list under the tag sha256-${D#sha256:}"
[[ $(jq -r .mediaType "$TMP/referrers.json") == application/vnd.oci.image.index.v1+json ]] ||
  fail "the fallback tag holds $(jq -r .mediaType "$TMP/referrers.json"), not an image index"
artifacts "$TMP/referrers.json" "$D" "$REPO" >"$TMP/reg.list"
[[ $(cut -f1 "$TMP/reg.list" | tr '\n' ' ') == "application/spdx+json application/vnd.cyclonedx+json " ]] ||
  fail "docker://: the referrers are not one SPDX and one CycloneDX document: $(cat "$TMP/reg.list")"
same_bytes application/spdx+json "$TMP/reg.spdx.json" "$TMP/reg.list" registry_blob
same_bytes application/vnd.cyclonedx+json "$TMP/reg.cdx.json" "$TMP/reg.list" registry_blob
echo "ok: docker://: both SBOMs listed under sha256-${D#sha256:}, their subject $D, their layers the files"

push 1 "$TMP/reg.spdx.json" "$TMP/reg.cdx.json" # the same again: nothing new
push 2 "$TMP/reg2.spdx.json"                     # the same image elsewhere: its document names :2
skopeo_ inspect --tls-verify=false --raw "$REPO:sha256-${D#sha256:}" >"$TMP/referrers.json"
artifacts "$TMP/referrers.json" "$D" "$REPO" >"$TMP/reg2.list"
(($(wc -l <"$TMP/reg2.list") == 3)) && [[ -z $(comm -23 "$TMP/reg.list" "$TMP/reg2.list") ]] ||
  fail "after a repeat and a second push the list is not the first two plus one: $(cat "$TMP/reg2.list")"
same_bytes application/spdx+json "$TMP/reg2.spdx.json" <(comm -13 "$TMP/reg.list" "$TMP/reg2.list") registry_blob
echo "ok: docker://: a repeated push adds nothing, another adds its document to the list"

packages_of "$REPO:1" >"$TMP/got"
[[ $ORIGIN == "attached SBOM sha256:"* ]] || fail "inspect --sbom $REPO:1: origin '$ORIGIN'"
diff "$TMP/want" "$TMP/got" >"$TMP/diff" || fail "inspect --sbom $REPO:1 (+) is not dpkg-query (-): $(cat "$TMP/diff")"
echo "ok: inspect --sbom docker://: the packages from the attached SBOM found by the fallback tag"

# --- 4. docker-archive: ------------------------------------------------------------
"$DSLIM" binary --pick /usr/bin/curl --from "$SRC" -o "docker-archive:$TMP/d.tar" \
  --sbom-out "$TMP/d.spdx.json" >/dev/null 2>"$TMP/d.err" || fail "docker-archive with --sbom-out: $(cat "$TMP/d.err")"
[[ -f $TMP/d.tar && -f $TMP/d.spdx.json ]] || fail "docker-archive: the image or the SBOM file is missing"
grep -q "cannot hold an attached SBOM; it is in the --sbom-out files only" "$TMP/d.err" ||
  fail "docker-archive: no warning that the SBOM is not attached: $(cat "$TMP/d.err")"
echo "ok: docker-archive: warned, the SBOM file written"
