#!/usr/bin/env bash
# Package metadata and SBOMs. An image keeps, for the files it takes from the
# source, the database entries of exactly the packages owning them (Debian: a
# trimmed /var/lib/dpkg/status and each package's /usr/share/doc/PKG/copyright;
# Alpine: a trimmed /lib/apk/db/installed); --no-package-metadata leaves those
# out and nothing else; --sbom-out writes SPDX 2.3 (.spdx.json) and CycloneDX
# 1.5 (.cdx.json) documents of those packages, the application's own files
# and the image.
#  1. nginx and curl picked from the benchmark image (Debian bookworm,
#     scripts/make-bench-image), nginx with its configuration (--include),
#     and nginx by `dslim image` (probed with -t): dpkg-query over the slim
#     image lists exactly the packages whose info/*.list in the source names
#     a file the image took from the source (computed here, merged /usr
#     resolved in the unpacked source), each with the source's version and
#     stanza; their copyright files come, and no other.
#  2. --no-package-metadata: the same image less those files and the
#     directories only they needed.
#  3. The SBOMs validate against the official schemas (fixtures/schemas,
#     offline: tests/support/validate_sbom.py), their licences are SPDX
#     expressions (tests/support/spdx_expression.py), and they list those
#     packages (names, versions, purls), the image's manifest digest, and the
#     files not from the source with their SHA-1 and SHA-256.
#  4. The same inputs twice: the same image and byte-identical SBOMs.
#  5. What the metadata costs nginx and curl, in bytes (informative).
#  6. An Alpine-style dir: root (this machine's musl loader, a hand-written
#     apk database, ID=alpine): only the musl block, verbatim, and its purl.
#  7. A distroless-style dir: root (status.d/NAME stanzas without Status,
#     NAME.md5sums lists): the owners' stanzas with a Status line.
source "$(dirname "$0")/../support/e2e.sh"
need skopeo umoci jq dpkg-query python3 sha1sum sha256sum cmp
export LC_ALL=C # sort, comm and join agree
unset SOURCE_DATE_EPOCH
test_image
SRC=oci:$TEST_IMAGE/layout:bench
SCHEMAS=$DSLIM_SOURCE_DIR/fixtures/schemas
VALIDATE=$DSLIM_SOURCE_DIR/tests/support/validate_sbom.py
EXPRESSION=$DSLIM_SOURCE_DIR/tests/support/spdx_expression.py

# Failures that need not stop the rest (licence expressions): said at once,
# and they fail the test at its end.
PROBLEMS=()
problem() {
  echo "FAIL (the test goes on): $*" >&2
  PROBLEMS+=("$*")
}

# The source unpacked once (umoci only reads the shared layout).
umoci --log error unpack --image "$TEST_IMAGE/layout:bench" "$TMP/src" >/dev/null ||
  fail "umoci unpack $SRC failed"
R=$TMP/src/rootfs # the root the helpers below read: the source's

# src_resolve PATH: resolve_with over the unpacked source $R (never leaving it).
src_resolve() { resolve_with src_lookup "$1"; }
src_lookup() {
  LOOKUP_KIND="" LOOKUP_TARGET=""
  if [[ -L $R$1 ]]; then
    LOOKUP_KIND=symlink LOOKUP_TARGET=$(readlink "$R$1")
  elif [[ -e $R$1 ]]; then
    LOOKUP_KIND=entry
  fi
}

# is_metadata PATH: a file the package metadata brings.
is_metadata() { [[ $1 =~ ^(/var/lib/dpkg/status|/lib/apk/db/installed|/usr/share/doc/[^/]+/copyright)$ ]]; }

# from_source NAME PATH TYPE: image NAME's entry PATH (of TYPE) is the
# source's: the same kind of entry at the same place (its directory no link
# in the source), the same bytes or the same link target.
from_source() {
  local name=$1 p=$2 dir
  dir=$(src_resolve "${p%/*}") || return 1
  [[ $dir == "${p%/*}" || (-z ${p%/*} && $dir == /) ]] || return 1
  case $3 in
    file) [[ -f $R$p && ! -L $R$p ]] && cmp -s "$R$p" "$TMP/bundle-$name/rootfs$p" ;;
    symlink) [[ -L $R$p && $(readlink "$R$p") == "$(image_target "$name" "$p")" ]] ;;
    *) [[ -e $R$p || -L $R$p ]] ;;
  esac
}

# slim NAME COMMAND [args...]: oci:$TMP/img:NAME made by `dslim COMMAND
# args...` (binary or image; the source is the caller's), with SBOMs
# $TMP/NAME.spdx.json and $TMP/NAME.cdx.json; its report in $TMP/NAME.txt,
# its entries loaded (image_entries NAME), its paths in $TMP/NAME.files,
# unpacked in $TMP/bundle-NAME, DIGEST its manifest digest (the report's
# `wrote DEST (DIGEST)`, which must be skopeo's).
slim() {
  local name=$1; shift
  "$DSLIM" "$@" -o "oci:$TMP/img:$name" --sbom-out "$TMP/$name.spdx.json" \
    --sbom-out "$TMP/$name.cdx.json" >"$TMP/$name.txt" 2>"$TMP/$name.err" ||
    fail "$name: dslim $* failed: $(cat "$TMP/$name.err")"
  image_entries "$name" "oci:$TMP/img:$name"
  jq -r '.files[].path' "$TMP/entries-$name.json" | sort >"$TMP/$name.files"
  umoci --log error unpack --image "$TMP/img:$name" "$TMP/bundle-$name" >/dev/null ||
    fail "$name: umoci unpack failed"
  DIGEST=$(sed -n "s|^wrote oci:$TMP/img:$name (\(sha256:[0-9a-f]\{64\}\))\$|\1|p" "$TMP/$name.txt")
  [[ -n $DIGEST ]] || fail "$name: the report does not end with 'wrote DEST (DIGEST)': $(tail -1 "$TMP/$name.txt")"
  [[ $DIGEST == "$(image_digest "oci:$TMP/img:$name")" ]] ||
    fail "$name: the report says $DIGEST, skopeo $(image_digest "oci:$TMP/img:$name")"
}

# classify NAME: sorts image NAME's entries that are not directories into
# $TMP/NAME.kept (taken from the source, but links to directories: merged
# /usr's /lib, a doc directory's link), $TMP/NAME.app (regular files not from
# the source: the application's) and $TMP/NAME.meta (the metadata files).
classify() {
  local name=$1 path type res
  : >"$TMP/$name.kept"; : >"$TMP/$name.app"; : >"$TMP/$name.meta"
  while IFS=$'\t' read -r path type; do
    if is_metadata "$path"; then
      echo "$path" >>"$TMP/$name.meta"
    elif from_source "$name" "$path" "$type"; then
      if [[ $type == symlink ]] && res=$(src_resolve "$path") && [[ -d $R$res ]]; then continue; fi
      echo "$path" >>"$TMP/$name.kept"
    elif [[ $type == file ]]; then
      echo "$path" >>"$TMP/$name.app"
    else
      fail "$name: $path ($type) is neither the source's nor a regular file"
    fi
  done < <(jq -r '.files[] | select(.type != "dir") | [.path, .type] | @tsv' "$TMP/entries-$name.json")
  sort -o "$TMP/$name.kept" "$TMP/$name.kept"
  sort -o "$TMP/$name.app" "$TMP/$name.app"
  sort -o "$TMP/$name.meta" "$TMP/$name.meta"
}

# deb_owners NAME: $TMP/NAME.owners, lines `PACKAGE<TAB>PATH` for each path
# of $TMP/NAME.kept that a .list of the source names, each list line's
# directory resolved in the source (a list's /lib/x is /usr/lib/x when /lib
# is a link to usr/lib), the entry itself not; $TMP/NAME.pkgs, those packages.
deb_owners() {
  local name=$1 list line dir phys pkg
  local -A want=() dirs=()
  while read -r line; do want[$line]=1; done <"$TMP/$name.kept"
  # Only the lines whose file name is one of the kept paths'.
  awk 'NR == FNR { names["/" $0]; next }
       { n = $0; sub(/.*\//, "/", n); if (n in names) print FILENAME "\t" $0 }' \
    <(sed 's|.*/||' "$TMP/$name.kept") "$R"/var/lib/dpkg/info/*.list >"$TMP/$name.candidates"
  : >"$TMP/$name.owners"
  while IFS=$'\t' read -r list line; do
    dir=${line%/*}
    if [[ -z ${dirs[x$dir]+set} ]]; then dirs[x$dir]=$(src_resolve "${dir:-/}") || dirs[x$dir]=""; fi
    [[ -n ${dirs[x$dir]} ]] || continue
    phys=${dirs[x$dir]%/}/${line##*/}
    [[ -n ${want[$phys]-} ]] || continue
    pkg=${list##*/}
    pkg=${pkg%.list}
    printf '%s\t%s\n' "${pkg%%:*}" "$phys" >>"$TMP/$name.owners"
  done <"$TMP/$name.candidates"
  sort -u -o "$TMP/$name.owners" "$TMP/$name.owners"
  cut -f1 "$TMP/$name.owners" | sort -u >"$TMP/$name.pkgs"
}

# stanza STATUS PACKAGE: PACKAGE's stanza of a dpkg status file, as it has it.
stanza() {
  awk -v p="$2" 'BEGIN { RS = ""; ORS = "\n" } { split($0, l, "\n"); if (l[1] == "Package: " p) print }' "$1"
}

# The source's packages: name, version, architecture, status.
dpkg-query --admindir="$R/var/lib/dpkg" -W -f '${Package}\t${Version}\t${Architecture}\t${db:Status-Status}\n' |
  sort >"$TMP/src.pkgs" || fail "dpkg-query over the source failed"
os_value() { sed -n "s/^$1=//p" "$R/etc/os-release" | tr -d '"'"'"; }
DISTRO=$(os_value ID)-$(os_value VERSION_ID)
[[ $DISTRO == debian-12 ]] || fail "the benchmark image is $DISTRO, not debian-12"

# deb_ok NAME: section 1 for image NAME (after slim and classify).
deb_ok() {
  local name=$1 pkg res got n
  deb_owners "$name"
  [[ -s $TMP/$name.pkgs ]] || fail "$name: no package owns a file of the image"
  # What dpkg-query reads in the slim image: those packages, each installed,
  # with the source's version.
  dpkg-query --admindir="$TMP/bundle-$name/rootfs/var/lib/dpkg" -W \
    -f '${Package}\t${Version}\t${db:Status-Status}\n' 2>"$TMP/$name.dq.err" | sort >"$TMP/$name.dpkg" ||
    fail "$name: dpkg-query over the slim image failed: $(cat "$TMP/$name.dq.err")"
  join -t $'\t' "$TMP/$name.pkgs" <(cut -f1,2,4 "$TMP/src.pkgs") >"$TMP/$name.want"
  if ! diff -u "$TMP/$name.want" "$TMP/$name.dpkg" >"$TMP/$name.diff"; then
    fail "$name: dpkg-query over the slim image (+) is not the owners of its files (-):
$(cat "$TMP/$name.diff")
owners (package, path):
$(cat "$TMP/$name.owners")"
  fi
  [[ $(wc -l <"$TMP/$name.want") -eq $(wc -l <"$TMP/$name.pkgs") ]] ||
    fail "$name: a package owning a file is not installed in the source: $(comm -23 "$TMP/$name.pkgs" <(cut -f1 "$TMP/$name.want"))"
  # Each stanza verbatim; the status file holds them and nothing else.
  while read -r pkg; do
    [[ $(stanza "$TMP/bundle-$name/rootfs/var/lib/dpkg/status" "$pkg") == "$(stanza "$R/var/lib/dpkg/status" "$pkg")" ]] ||
      fail "$name: $pkg's stanza is not the source's: $(diff <(stanza "$R/var/lib/dpkg/status" "$pkg") <(stanza "$TMP/bundle-$name/rootfs/var/lib/dpkg/status" "$pkg"))"
  done <"$TMP/$name.pkgs"
  n=$(grep -c '^Package: ' "$TMP/bundle-$name/rootfs/var/lib/dpkg/status")
  [[ $n -eq $(wc -l <"$TMP/$name.pkgs") ]] || fail "$name: the status file has $n stanzas for $(wc -l <"$TMP/$name.pkgs") packages"
  echo "ok: $name: dpkg-query lists the $(wc -l <"$TMP/$name.pkgs") owners of its $(wc -l <"$TMP/$name.kept") files from the source, at the source's versions: $(tr '\n' ' ' <"$TMP/$name.pkgs")"

  # Copyright files: each kept package's the source has (a doc directory may
  # be a link: libgcc-s1 -> gcc-12-base), the same bytes; and no other.
  local -A doc_ok=()
  n=0
  while read -r pkg; do
    res=$(src_resolve "/usr/share/doc/$pkg") && doc_ok[/usr/share/doc/$pkg]=1 && doc_ok[$res]=1
    res=$(src_resolve "/usr/share/doc/$pkg/copyright") || continue
    [[ -f $R$res ]] || continue
    doc_ok[$res]=1
    got=$(image_resolve "$name" "/usr/share/doc/$pkg/copyright") ||
      fail "$name: /usr/share/doc/$pkg/copyright is not in the image (the source's is $res)"
    [[ $got == "$res" && $(image_type "$name" "$got") == file ]] ||
      fail "$name: /usr/share/doc/$pkg/copyright leads to $got ($(image_type "$name" "$got")), the source's to $res"
    cmp -s "$R$res" "$TMP/bundle-$name/rootfs$got" || fail "$name: $got differs from the source's"
    n=$((n + 1))
  done <"$TMP/$name.pkgs"
  while read -r got; do
    [[ $got == /usr/share/doc || -n ${doc_ok[$got]-} ]] || fail "$name: $got is in the image, no kept package's copyright"
  done < <(grep '^/usr/share/doc/' "$TMP/$name.files" || true)
  echo "ok: $name: the $n copyright files of those packages the source has, and no other"
}

# --- 1. nginx and curl: the owners of their files ------------------------------
for name in nginx curl; do
  [[ $name == nginx ]] && prog=/usr/sbin/nginx || prog=/usr/bin/curl
  slim "$name" binary --from "$SRC" --pick "$prog"
  classify "$name"
  deb_ok "$name"
done
# A package that owns only directories and links to them is not kept:
# libgcc-s1's doc directory is a link to gcc-12-base's, whose copyright comes
# for libgcc-s1; gcc-12-base itself owns no file of the image.
grep -qx libgcc-s1 "$TMP/nginx.pkgs" || fail "nginx: libgcc-s1 (libgcc_s.so.1, inferred) is not kept"
[[ $(image_type nginx /usr/share/doc/libgcc-s1) == symlink && $(image_type nginx /usr/share/doc/gcc-12-base/copyright) == file ]] ||
  fail "nginx: libgcc-s1's copyright is not there through its doc link"
! grep -q $'^gcc-12-base\t' "$TMP/nginx.dpkg" || fail "nginx: gcc-12-base is in the status, though it owns no kept file"
! grep -q $'^ca-certificates\t' "$TMP/curl.dpkg" ||
  fail "curl: ca-certificates is kept: the CA bundle is made by update-ca-certificates, no .list names it"
echo "ok: links to directories and generated files keep no package"
# Files of other packages: nginx's configuration (nginx-common's conffiles,
# a module's configuration through its link in modules-enabled), by
# --include; and `dslim image`, whose probe (nginx -t) reads them.
slim nginx-conf binary --from "$SRC" --pick /usr/sbin/nginx --include /etc/nginx
classify nginx-conf
deb_ok nginx-conf
grep -qx nginx-common "$TMP/nginx-conf.pkgs" || fail "nginx-conf: nginx-common is not among the owners: $(cat "$TMP/nginx-conf.pkgs")"
L=$TMP/layout
bench_layout "$L"
umoci --log error config --image "$L:base" --tag nginx --config.entrypoint nginx --config.cmd=-t ||
  fail "umoci config of $L:nginx failed"
slim nginx-image image "oci:$L:nginx"
classify nginx-image
deb_ok nginx-image

# --- 2. --no-package-metadata: those files go, nothing else changes ------------
# entry_lines NAME: image NAME's entries, one a line, all they say.
entry_lines() { jq -r '.files[] | [.path, .type, .mode, .uid, .gid, .size, (.target // "")] | @tsv' "$TMP/entries-$1.json" | sort; }
# has_under FILE DIR: a line of FILE is a path under DIR.
has_under() { awk -v d="$2/" 'index($0, d) == 1 { found = 1 } END { exit !found }' "$1"; }
# cfg NAME: image NAME's config but its layers' digests.
cfg() { skopeo_ inspect --config "oci:$TMP/img:$1" | jq -S 'del(.rootfs, .history)'; }
for name in nginx curl; do
  [[ $name == nginx ]] && prog=/usr/sbin/nginx || prog=/usr/bin/curl
  slim "$name-nm" binary --from "$SRC" --pick "$prog" --no-package-metadata
  [[ -z $(comm -13 "$TMP/$name.files" "$TMP/$name-nm.files") ]] ||
    fail "$name: --no-package-metadata adds $(comm -13 "$TMP/$name.files" "$TMP/$name-nm.files")"
  comm -23 "$TMP/$name.files" "$TMP/$name-nm.files" >"$TMP/$name.gone"
  # What may go: the metadata files, the doc directories and their links,
  # and directories holding nothing else.
  while read -r p; do
    if is_metadata "$p" || [[ $p =~ ^/usr/share/doc/[^/]+$ ]]; then continue; fi
    [[ $(image_type "$name" "$p") == dir ]] || fail "$name: --no-package-metadata leaves out $p"
    ! has_under "$TMP/$name-nm.files" "$p" || fail "$name: --no-package-metadata leaves out $p, a directory it still fills"
    has_under "$TMP/$name.gone" "$p" || fail "$name: --no-package-metadata leaves out $p, no parent of the metadata"
  done <"$TMP/$name.gone"
  grep -qx /var/lib/dpkg/status "$TMP/$name.gone" || fail "$name: the status file stays with --no-package-metadata"
  comm -23 "$TMP/$name.meta" "$TMP/$name.gone" | grep . && fail "$name: metadata stays with --no-package-metadata"
  # The entries that stay are the same, and so is the config.
  if ! diff <(entry_lines "$name" | awk -F'\t' 'NR == FNR { gone[$0]; next } !($1 in gone)' "$TMP/$name.gone" -) \
    <(entry_lines "$name-nm") >"$TMP/$name.nm.diff"; then
    fail "$name: --no-package-metadata changes other entries: $(cat "$TMP/$name.nm.diff")"
  fi
  [[ $(cfg "$name") == "$(cfg "$name-nm")" ]] || fail "$name: --no-package-metadata changes the config"
  # The layers hold the same bytes for what stays.
  while read -r p; do
    cmp -s "$TMP/bundle-$name/rootfs$p" "$TMP/bundle-$name-nm/rootfs$p" || fail "$name: $p differs with --no-package-metadata"
  done < <(jq -r '.files[] | select(.type == "file") | .path' "$TMP/entries-$name-nm.json")
  [[ ! -e $TMP/bundle-$name-nm/rootfs/var/lib/dpkg/status ]] || fail "$name-nm: has a status file"
  echo "ok: $name: --no-package-metadata leaves out $(wc -l <"$TMP/$name.gone") entries, all metadata: $(tr '\n' ' ' <"$TMP/$name.gone" | cut -c1-300)..."
done

# --- 3. the SBOMs ---------------------------------------------------------------
# validate DOC SCHEMA: DOC is valid by fixtures/schemas/SCHEMA (exit 10 of the
# validator: invalid). Without python3's jsonschema, fails under CI, else says so.
validate() {
  local rc=0 out
  out=$(python3 "$VALIDATE" "$SCHEMAS" "$2" "$1" 2>&1) || rc=$?
  case $rc in
    0) echo "ok: ${1##*/} is valid by $2 ($out)" ;;
    3)
      [[ -n ${CI:-} ]] && fail "python3's jsonschema is required under CI (scripts/bootstrap installs python3-jsonschema)"
      echo "SKIP: ${1##*/} not validated: no python3 jsonschema module"
      ;;
    *) fail "${1##*/} is not valid by $2 (exit $rc):
$out" ;;
  esac
}
# The validator itself refuses what breaks a schema, and resolves
# bom-1.5.schema.json's $ref to spdx.schema.json offline (a licence id).
jq '.components[0].licenses = [{license: {id: "Not-A-Licence-Id"}}]' "$TMP/nginx.cdx.json" >"$TMP/bad.cdx.json"
rc=0
out=$(python3 "$VALIDATE" "$SCHEMAS" bom-1.5.schema.json "$TMP/bad.cdx.json" 2>&1) || rc=$?
((rc == 10 || rc == 3)) || fail "the validator takes a CycloneDX licence id not in spdx.schema.json (exit $rc): $out"
jq 'del(.documentNamespace)' "$TMP/nginx.spdx.json" >"$TMP/bad.spdx.json"
rc=0
out=$(python3 "$VALIDATE" "$SCHEMAS" spdx-2.3.schema.json "$TMP/bad.spdx.json" 2>&1) || rc=$?
((rc == 10 || rc == 3)) || fail "the validator takes an SPDX document without documentNamespace (exit $rc): $out"

# The purl encoding of the purl spec: unreserved characters as they are, the
# rest %XX (ASCII here).
JQ_ENC='def hex: "0123456789ABCDEF"[.:. + 1];
  def enc: [explode[] | if (. >= 48 and . <= 57) or (. >= 65 and . <= 90) or (. >= 97 and . <= 122)
    or . == 45 or . == 46 or . == 95 or . == 126 then [.] | implode
    else "%" + ((. / 16 | floor) | hex) + ((. % 16) | hex) end] | join("");'
[[ $(jq -rn "$JQ_ENC"' "1:2.3+deb12u1~x" | enc') == "1%3A2.3%2Bdeb12u1~x" ]] || fail "the test's purl encoder is wrong"

# sbom_ok NAME WANT: image NAME's SBOMs are valid and list the packages of
# WANT (lines NAME<TAB>VERSION<TAB>PURL<TAB>LICENCE, LICENCE empty when any
# goes) and nothing else, the application's files $TMP/NAME.app with their
# hashes, and the image's manifest digest DIGEST.
sbom_ok() {
  local name=$1 want=$2 spdx=$TMP/$1.spdx.json cdx=$TMP/$1.cdx.json hex=${DIGEST#sha256:} p
  validate "$spdx" spdx-2.3.schema.json
  validate "$cdx" bom-1.5.schema.json
  # Licences: SPDX expressions of the licence list's ids or LicenseRefs, each
  # LicenseRef of an SPDX document defined there (SPDX 2.3 clause 10).
  local out
  for f in "$spdx" "$cdx"; do
    out=$(python3 "$EXPRESSION" check "$SCHEMAS" "$f" 2>&1) ||
      problem "${f##*/}: licence expressions: $(grep -v ' problems$' <<<"$out" | head -3 | tr '\n' ';') ... ($(tail -1 <<<"$out"))"
  done
  # The packages: SPDX's, but the described image and the application.
  jq -r '(.relationships[] | select(.spdxElementId == "SPDXRef-DOCUMENT" and .relationshipType == "DESCRIBES")
          | .relatedSpdxElement) as $d
    | .packages[] | select(.SPDXID != $d and .primaryPackagePurpose != "APPLICATION")
    | [.name, .versionInfo, ([.externalRefs[]? | select(.referenceType == "purl") | .referenceLocator] | join(" ")),
       .licenseDeclared] | @tsv' "$spdx" | sort >"$TMP/$name.spdx.pkgs"
  jq -r '.components[] | select(.type != "file")
    | [.name, .version, .purl, ([.licenses[]? | .expression // .license.id // .license.name] | join(" AND ") | if . == "" then "NOASSERTION" else . end)]
    | @tsv' "$cdx" | sort >"$TMP/$name.cdx.pkgs"
  for f in spdx cdx; do
    diff <(cut -f1-3 "$want") <(cut -f1-3 "$TMP/$name.$f.pkgs") >"$TMP/$name.$f.diff" ||
      fail "$name: the $f SBOM's packages (+) are not the image's (-): $(cat "$TMP/$name.$f.diff")"
  done
  diff "$TMP/$name.spdx.pkgs" "$TMP/$name.cdx.pkgs" >/dev/null ||
    fail "$name: SPDX and CycloneDX disagree (licences?): $(diff "$TMP/$name.spdx.pkgs" "$TMP/$name.cdx.pkgs")"
  local lic got
  while IFS=$'\t' read -r p _ _ lic; do
    [[ -n $lic ]] || continue
    got=$(awk -F'\t' -v p="$p" '$1 == p { print $4 }' "$TMP/$name.spdx.pkgs")
    [[ $got == "$lic" ]] || fail "$name: $p's licence is '$got', want '$lic'"
  done <"$want"
  # Every package and file is in the image (CONTAINS, from the described one down).
  jq -e '(.relationships[] | select(.relationshipType == "DESCRIBES") | .relatedSpdxElement) as $d
    | ([.packages[].SPDXID, .files[]?.SPDXID] - [$d]) - [.relationships[] | select(.relationshipType == "CONTAINS") | .relatedSpdxElement]
    | length == 0' "$spdx" >/dev/null || fail "$name: an SPDX element is not contained in the image"
  # The image: its manifest digest.
  jq -e --arg h "$hex" '(.relationships[] | select(.spdxElementId == "SPDXRef-DOCUMENT" and .relationshipType == "DESCRIBES")
      | .relatedSpdxElement) as $d | [.packages[] | select(.SPDXID == $d)] | length == 1 and
      (.[0].checksums | any(.algorithm == "SHA256" and .checksumValue == $h))' "$spdx" >/dev/null ||
    fail "$name: the SPDX document does not describe $DIGEST: $(jq -c '.packages[0]' "$spdx")"
  jq -e --arg h "$hex" '.metadata.component | (.hashes | any(.alg == "SHA-256" and .content == $h))' "$cdx" >/dev/null ||
    fail "$name: the CycloneDX metadata.component is not $DIGEST: $(jq -c .metadata.component "$cdx")"
  # The application's files: their hashes in the unpacked image.
  while read -r p; do
    printf '%s\t%s\t%s\n' "$p" "$(sha1sum <"$TMP/bundle-$name/rootfs$p" | cut -d' ' -f1)" \
      "$(sha256sum <"$TMP/bundle-$name/rootfs$p" | cut -d' ' -f1)"
  done <"$TMP/$name.app" >"$TMP/$name.app.want"
  jq -r '.files[]? | [(.fileName | ltrimstr(".")), (.checksums[] | select(.algorithm == "SHA1") | .checksumValue),
    (.checksums[] | select(.algorithm == "SHA256") | .checksumValue)] | @tsv' "$spdx" | sort >"$TMP/$name.spdx.files"
  jq -r '.components[] | select(.type == "file") | [.name, (.hashes[] | select(.alg == "SHA-1") | .content),
    (.hashes[] | select(.alg == "SHA-256") | .content)] | @tsv' "$cdx" | sort >"$TMP/$name.cdx.files"
  for f in spdx cdx; do
    diff "$TMP/$name.app.want" "$TMP/$name.$f.files" >"$TMP/$name.$f.fdiff" ||
      fail "$name: the $f SBOM's files (+) are not the application's with their hashes (-): $(cat "$TMP/$name.$f.fdiff")"
  done
  echo "ok: $name: both SBOMs list its $(wc -l <"$want") packages, $DIGEST and its $(wc -l <"$TMP/$name.app") own files ($(cut -f1 "$TMP/$name.app" | tr '\n' ' '))"
}

# deb_want NAME: $TMP/NAME.sbom.want for sbom_ok from dpkg-query over the
# slim image and the source's architectures; licences NOASSERTION for a
# package without a copyright file in the source, else any.
deb_want() {
  local name=$1 pkg ver arch purl lic
  while IFS=$'\t' read -r pkg ver _; do
    arch=$(awk -F'\t' -v p="$pkg" '$1 == p { print $3; exit }' "$TMP/src.pkgs")
    purl=$(jq -rn --arg n "$pkg" --arg v "$ver" --arg a "$arch" --arg d "$DISTRO" \
      "$JQ_ENC"' "pkg:deb/debian/\($n | enc)@\($v | enc)?arch=\($a | enc)&distro=\($d | enc)"')
    lic=""
    if ! res=$(src_resolve "/usr/share/doc/$pkg/copyright") || [[ ! -f $R$res ]]; then lic=NOASSERTION; fi
    printf '%s\t%s\t%s\t%s\n' "$pkg" "$ver" "$purl" "$lic"
  done <"$TMP/$name.dpkg" >"$TMP/$name.sbom.want"
}
for name in nginx curl nginx-conf nginx-image; do
  deb_want "$name"
  DIGEST=$(image_digest "oci:$TMP/img:$name")
  sbom_ok "$name" "$TMP/$name.sbom.want"
done
# A version with an epoch and a +: the purl the contract names.
v=$(awk -F'\t' '$1 == "libssl3" { print $2 }' "$TMP/src.pkgs")
v=${v//+/%2B}
grep -qF $'\t'"pkg:deb/debian/libssl3@${v//:/%3A}?arch=amd64&distro=debian-12"$'\t' "$TMP/nginx.spdx.pkgs" ||
  fail "nginx: libssl3's purl: $(grep libssl3 "$TMP/nginx.spdx.pkgs")"
grep -q $'\tpkg:deb/debian/zlib1g@1%3A' "$TMP/curl.spdx.pkgs" || fail "curl: zlib1g's epoch is not %3A in its purl"
echo "ok: purls: $(grep -E '^(libssl3|zlib1g)'$'\t' "$TMP/curl.spdx.pkgs" | cut -f3 | tr '\n' ' ')"
# Written with --no-package-metadata too: the same packages and files.
for name in nginx curl; do
  DIGEST=$(image_digest "oci:$TMP/img:$name-nm")
  cp "$TMP/$name.app" "$TMP/$name-nm.app"
  sbom_ok "$name-nm" "$TMP/$name.sbom.want"
done
# Another suffix is refused, and nothing is written.
expect_exit 1 "$DSLIM" binary --pick /usr/bin/curl --from "$SRC" -o "oci:$TMP/refused:x" --sbom-out "$TMP/refused.json"
[[ ! -e $TMP/refused && ! -e $TMP/refused.json ]] || fail "--sbom-out FILE.json: something was written"

# --- 4. the same inputs twice ---------------------------------------------------
# Same output path (the SBOMs name the image), fresh directories and caches.
det() {
  rm -rf "$TMP/det"
  mkdir "$TMP/det"
  SOURCE_DATE_EPOCH=1700000000 XDG_CACHE_HOME=$TMP/det-cache-$1 "$DSLIM" -q binary --pick /usr/sbin/nginx --from "$SRC" \
    -o "oci:$TMP/det/img:n" --sbom-out "$TMP/det/n.spdx.json" --sbom-out "$TMP/det/n.cdx.json" >"$TMP/det.out" 2>"$TMP/det.err" ||
    fail "deterministic run $1 failed: $(cat "$TMP/det.err")"
  cat "$TMP/det.out"
}
d1=$(det 1)
mv "$TMP/det" "$TMP/det1"
d2=$(det 2)
[[ $d1 =~ ^sha256:[0-9a-f]{64}$ && $d1 == "$d2" ]] || fail "two runs: $d1 and $d2"
[[ $d1 == "$(image_digest "oci:$TMP/det/img:n")" ]] || fail "-q printed $d1, skopeo sees $(image_digest "oci:$TMP/det/img:n")"
for f in n.spdx.json n.cdx.json; do
  cmp "$TMP/det1/$f" "$TMP/det/$f" || fail "two runs: $f differs: $(diff <(jq -S . "$TMP/det1/$f") <(jq -S . "$TMP/det/$f") | head -20)"
done
[[ $(jq -r .creationInfo.created "$TMP/det/n.spdx.json") == 2023-11-14T22:13:20Z &&
  $(jq -r .metadata.timestamp "$TMP/det/n.cdx.json") == 2023-11-14T22:13:20Z ]] ||
  fail "the SBOMs' times are not SOURCE_DATE_EPOCH's: $(jq -r .creationInfo.created "$TMP/det/n.spdx.json") $(jq -r .metadata.timestamp "$TMP/det/n.cdx.json")"
echo "ok: the same inputs twice: $d1 and byte-identical SBOMs dated 2023-11-14T22:13:20Z"

# --- 5. what the metadata costs -------------------------------------------------
# Compressed bytes of an image: its manifest, config and layer blobs.
image_bytes() {
  local m
  m=$(skopeo_ inspect --raw "$1" | wc -c)
  skopeo_ inspect --raw "$1" | jq --argjson m "$m" '$m + .config.size + ([.layers[].size] | add // 0)'
}
for name in nginx curl; do
  with=$(image_bytes "oci:$TMP/img:$name") without=$(image_bytes "oci:$TMP/img:$name-nm")
  ((with > without)) || fail "$name: $with bytes with the metadata, $without without"
  raw=$(jq --rawfile m "$TMP/$name.meta" '($m | split("\n")) as $m
    | [.files[] | select(.type == "file" and (.path as $p | $m | any(.[]; . == $p))) | .size] | add' "$TMP/entries-$name.json")
  echo "ok: $name: the metadata of $(wc -l <"$TMP/$name.pkgs") packages ($(wc -l <"$TMP/$name.meta") files, $raw bytes) adds $((with - without)) bytes to the image ($with with, $without without)"
done

# --- 6. an Alpine-style source --------------------------------------------------
need musl-gcc runc
loader=$(readlink -f /lib/ld-musl-x86_64.so.1) || true
[[ -f $loader ]] || fail "the musl loader /lib/ld-musl-x86_64.so.1 is missing (package musl)"
ROOT=$TMP/alpine
mkdir -p "$ROOT/lib/apk/db" "$ROOT/bin" "$ROOT/etc" "$ROOT/usr/bin"
cp "$loader" "$ROOT/lib/ld-musl-x86_64.so.1"
ln -s ld-musl-x86_64.so.1 "$ROOT/lib/libc.musl-x86_64.so.1"
cp /bin/true "$ROOT/bin/busybox" # a file busybox owns; the program needs nothing of it
printf 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME="Alpine Linux v3.20"\n' >"$ROOT/etc/os-release"
cat >"$TMP/prog.c" <<'C'
#include <stdio.h>
int main(void) { puts("hello from musl"); return 0; }
C
musl-gcc -O2 -o "$TMP/prog" "$TMP/prog.c" || fail "musl-gcc failed"
# Three blocks as apk writes them (each ends with a blank line); musl's in
# the middle, with a version holding a `+`-free apk revision and a licence.
busybox_block='C:Q1e2Lz1fTBCrW3v7Ah5o9tV2cXq3o=
P:busybox
V:1.36.1-r29
A:x86_64
S:512409
I:1024000
T:Size optimized toolbox of many common UNIX utilities
U:https://busybox.net/
L:GPL-2.0-only
o:busybox
m:Sören Tempel <soeren+alpine@soeren-tempel.net>
t:1718380200
c:1f9b2f4e5a2b0e0c4f0e8c9d3f6b2a1e0d9c8b7a
D:so:libc.musl-x86_64.so.1
F:bin
R:busybox
a:0:0:755
Z:Q1oSQ3q1iEDBNgqyFdSHrSFe8nzBw=
'
musl_block='C:Q1jdhFzTZCQtQnXA1ZR1UBtbrS0MQ=
P:musl
V:1.2.5-r0
A:x86_64
S:411323
I:662528
T:the musl c library (libc) implementation
U:https://musl.libc.org/
L:MIT
o:musl
m:Natanael Copa <ncopa@alpinelinux.org>
t:1712231826
c:b8b9cf9c9ac5fc2c5e1e3bab3e0f4c8b5ebfc5e2
p:so:libc.musl-x86_64.so.1=1
F:lib
R:ld-musl-x86_64.so.1
a:0:0:755
Z:Q1M2Ta4YSvmsWvB3gmYf2eRlqHj2A=
R:libc.musl-x86_64.so.1
a:0:0:777
Z:Q1DBJ4+UGgr5T5fe9r4/yPXqEAvqg=
'
utils_block='C:Q1b3Jp8vlT9Kqv3zY4Vw7eTw2h1pM=
P:musl-utils
V:1.2.5-r0
A:x86_64
L:MIT AND BSD-2-Clause AND GPL-2.0-or-later
o:musl
F:usr/bin
R:ldd
a:0:0:755
Z:Q1yFyGm3rZ0Pkkk0jGeZ2q3MZ7gTc=
'
printf '%s\n%s\n%s\n' "$busybox_block" "$musl_block" "$utils_block" >"$ROOT/lib/apk/db/installed"
printf '#!/bin/sh\n' >"$ROOT/usr/bin/ldd"

R=$ROOT # the helpers read this source now
echo hello >"$TMP/greeting.txt"
slim apk binary --from "dir:$ROOT" "$TMP/prog" --add "$TMP/greeting.txt:/etc/greeting.txt"
classify apk
[[ $(cat "$TMP/apk.kept") == /lib/ld-musl-x86_64.so.1 ]] || fail "apk: files from the source: $(cat "$TMP/apk.kept")"
[[ $(tr '\n' ' ' <"$TMP/apk.app") == "/app /etc/greeting.txt " ]] ||
  fail "apk: files not from the source: $(cat "$TMP/apk.app")"
[[ $(image_type apk /lib/apk/db/installed) == file ]] || fail "apk: no /lib/apk/db/installed in the image"
printf '%s\n' "$musl_block" >"$TMP/apk.installed.want"
cmp "$TMP/apk.installed.want" "$TMP/bundle-apk/rootfs/lib/apk/db/installed" ||
  fail "apk: /lib/apk/db/installed is not musl's block verbatim:
$(diff "$TMP/apk.installed.want" "$TMP/bundle-apk/rootfs/lib/apk/db/installed")"
echo "ok: apk: /lib/apk/db/installed is musl's block verbatim, not busybox's nor musl-utils'"
! grep -q '^/usr/share/doc' "$TMP/apk.files" || fail "apk: copyright files from an Alpine root"
printf 'musl\t1.2.5-r0\tpkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=alpine-3.20.3\tMIT\n' >"$TMP/apk.sbom.want"
sbom_ok apk "$TMP/apk.sbom.want"
grep -qxF "/app"$'\t'"$(sha1sum <"$TMP/prog" | cut -d' ' -f1)"$'\t'"$(sha256sum <"$TMP/prog" | cut -d' ' -f1)" "$TMP/apk.app.want" ||
  fail "apk: /app is not the program"
expect_runs "$TMP/img:apk" "hello from musl"
slim apk-nm binary --from "dir:$ROOT" "$TMP/prog" --add "$TMP/greeting.txt:/etc/greeting.txt" --no-package-metadata
[[ $(comm -23 "$TMP/apk.files" "$TMP/apk-nm.files" | tr '\n' ' ') == "/lib/apk /lib/apk/db /lib/apk/db/installed " &&
  -z $(comm -13 "$TMP/apk.files" "$TMP/apk-nm.files") ]] ||
  fail "apk: --no-package-metadata changes: $(diff "$TMP/apk.files" "$TMP/apk-nm.files")"
echo "ok: apk: --no-package-metadata leaves out /lib/apk/db/installed and its directories only"

# --- 7. a distroless-style source: dpkg's status.d -----------------------------
# status.d/NAME holds a package's stanza, without Status, and NAME.md5sums
# its files (paths relative to /), as distroless images have them; a merged
# /usr root. libc6 (this machine's stanza but its Status) owns the loader and
# libc the program needs, and its copyright is DEP-5 with a licence whose
# comma sets the precedence; a package whose name has dots
# (libpython3.11-minimal, as distroless/python3 has) owns a file taken by
# --include; base-files owns nothing kept.
D=$TMP/distroless
mkdir -p "$D/usr/lib/x86_64-linux-gnu" "$D/usr/lib64" "$D/usr/lib/python3.11" "$D/usr/share/doc/libc6" \
  "$D/var/lib/dpkg/status.d" "$D/etc"
ln -s usr/lib "$D/lib"
ln -s usr/lib64 "$D/lib64"
cp -L /lib/x86_64-linux-gnu/libc.so.6 /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$D/usr/lib/x86_64-linux-gnu/" ||
  fail "cannot copy this machine's libc and loader"
ln -s ../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$D/usr/lib64/ld-linux-x86-64.so.2"
printf 'PRETTY_NAME="Distroless"\nID=debian\nVERSION_ID="12"\n' >"$D/etc/os-release"
echo 12.4 >"$D/etc/debian_version"
echo 'import posixpath' >"$D/usr/lib/python3.11/os.py"
dpkg-query -s "libc6:$(dpkg --print-architecture)" | grep -v '^Status: ' >"$D/var/lib/dpkg/status.d/libc6" ||
  fail "dpkg-query -s libc6 failed"
libc_version=$(sed -n 's/^Version: //p' "$D/var/lib/dpkg/status.d/libc6")
libc_arch=$(sed -n 's/^Architecture: //p' "$D/var/lib/dpkg/status.d/libc6")
(cd "$D" && md5sum lib/x86_64-linux-gnu/libc.so.6 lib/x86_64-linux-gnu/ld-linux-x86-64.so.2) >"$D/var/lib/dpkg/status.d/libc6.md5sums"
cat >"$D/var/lib/dpkg/status.d/libpython3.11-minimal" <<'STANZA'
Package: libpython3.11-minimal
Priority: optional
Section: python
Installed-Size: 5103
Maintainer: Matthias Klose <doko@debian.org>
Architecture: amd64
Multi-Arch: same
Source: python3.11
Version: 3.11.2-6+deb12u6
Depends: libc6 (>= 2.14), libssl3 (>= 3.0.0)
Description: Minimal subset of the Python language (version 3.11)
 This package contains some essential modules. It is normally not
 used on it's own, but as a dependency of python3.11-minimal.
STANZA
(cd "$D" && md5sum usr/lib/python3.11/os.py) >"$D/var/lib/dpkg/status.d/libpython3.11-minimal.md5sums"
printf 'Package: base-files\nEssential: yes\nArchitecture: amd64\nVersion: 12.4+deb12u13\n' >"$D/var/lib/dpkg/status.d/base-files"
(cd "$D" && md5sum etc/debian_version) >"$D/var/lib/dpkg/status.d/base-files.md5sums"
cat >"$D/usr/share/doc/libc6/copyright" <<'DEP5'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: GNU C Library

Files: *
Copyright: 1991-2023 Free Software Foundation, Inc.
License: LGPL-2.1+

Files: debian/*
Copyright: 2024 Someone
License: GPL-2+ or Artistic-2.0, and BSD-3-clause
DEP5

R=$D
slim distroless binary --from "dir:$D" "$DSLIM_FIXTURE_DIR/bin/hello_plain" --include /usr/lib/python3.11/os.py
classify distroless
! grep -q '^/var/lib/dpkg/status.d' "$TMP/distroless.files" || fail "distroless: status.d came into the image"
[[ $(image_type distroless /var/lib/dpkg/status) == file ]] || fail "distroless: no /var/lib/dpkg/status in the image"
# The libc6 stanza: status.d's, verbatim, with one Status line added.
st=$TMP/bundle-distroless/rootfs/var/lib/dpkg/status
[[ $(stanza "$st" libc6 | grep '^Status:') == "Status: install ok installed" ]] ||
  fail "distroless: libc6's Status: $(stanza "$st" libc6 | grep '^Status:' | tr '\n' ';')"
[[ $(stanza "$st" libc6 | grep -v '^Status:') == "$(cat "$D/var/lib/dpkg/status.d/libc6")" ]] ||
  fail "distroless: libc6's stanza is not status.d's: $(diff "$D/var/lib/dpkg/status.d/libc6" <(stanza "$st" libc6 | grep -v '^Status:'))"
cmp -s "$D/usr/share/doc/libc6/copyright" "$TMP/bundle-distroless/rootfs/usr/share/doc/libc6/copyright" ||
  fail "distroless: libc6's copyright is not the source's"
echo "ok: distroless: libc6's stanza from status.d, verbatim, with 'Status: install ok installed', and its copyright"
# The licence: DEP-5's `A or B, and C` is (A or B) and C.
lic=$(jq -r '.packages[] | select(.name == "libc6") | .licenseDeclared' "$TMP/distroless.spdx.json")
want_lic="LGPL-2.1-or-later AND (GPL-2.0-or-later OR Artistic-2.0) AND BSD-3-Clause"
if out=$(python3 "$EXPRESSION" same "$lic" "$want_lic"); then
  echo "ok: distroless: libc6's licence is $lic"
else
  problem "distroless: libc6's copyright says 'LGPL-2.1+' and 'GPL-2+ or Artistic-2.0, and BSD-3-clause': licence '$lic', want '$want_lic' ($out)"
fi
# Exactly the owners: libc6 and libpython3.11-minimal, not base-files.
printf 'libc6\t%s\tinstalled\nlibpython3.11-minimal\t3.11.2-6+deb12u6\tinstalled\n' "$libc_version" >"$TMP/distroless.want"
dpkg-query --admindir="$TMP/bundle-distroless/rootfs/var/lib/dpkg" -W -f '${Package}\t${Version}\t${db:Status-Status}\n' |
  sort >"$TMP/distroless.dpkg" || fail "distroless: dpkg-query over the slim image failed"
diff "$TMP/distroless.want" "$TMP/distroless.dpkg" >"$TMP/distroless.diff" ||
  fail "distroless: dpkg-query over the slim image (+) is not libc6 and libpython3.11-minimal (-), the owners of its files from status.d's md5sums: $(cat "$TMP/distroless.diff")"
echo "ok: distroless: dpkg-query lists libc6 and libpython3.11-minimal, not base-files"
{
  printf 'libc6\t%s\tpkg:deb/debian/libc6@%s?arch=%s&distro=debian-12\t\n' "$libc_version" \
    "$(jq -rn --arg v "$libc_version" "$JQ_ENC"' $v | enc')" "$libc_arch"
  printf 'libpython3.11-minimal\t3.11.2-6+deb12u6\tpkg:deb/debian/libpython3.11-minimal@3.11.2-6%%2Bdeb12u6?arch=amd64&distro=debian-12\tNOASSERTION\n'
} >"$TMP/distroless.sbom.want"
sbom_ok distroless "$TMP/distroless.sbom.want"

((${#PROBLEMS[@]} == 0)) || fail "${#PROBLEMS[@]} checks failed on the way:
$(printf '  %s\n' "${PROBLEMS[@]}")"
