#!/usr/bin/env bash
# --with passwd,tmp,certs: /etc/passwd and /etc/group with nonroot 65532, an
# empty /tmp with mode 1777, empty /root and /home/nonroot, the CA bundle and
# SSL_CERT_FILE in the config Env. What the source keeps in its own /tmp,
# /root and /home/nonroot must never reach the image.
source "$(dirname "$0")/../support/e2e.sh"
need skopeo umoci jq tar
root=$TMP/root
mkdir -p "$root/etc/ssl/certs" "$root/tmp/build-cache" "$root/root/.ssh" "$root/home/nonroot"
ca=$(readlink -f /etc/ssl/certs/ca-certificates.crt 2>/dev/null || true)
if [[ -f $ca ]]; then cp "$ca" "$root/etc/ssl/certs/ca-certificates.crt"
else printf -- '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' >"$root/etc/ssl/certs/ca-certificates.crt"; fi
echo "host scratch" >"$root/tmp/build-cache/object.o"
echo "PRIVATE KEY" >"$root/root/.ssh/id_ed25519"
echo "nonroot's notes" >"$root/home/nonroot/notes"

"$DSLIM" -q binary "$DSLIM_FIXTURE_DIR/bin/hello_static" --from "dir:$root" --with passwd,tmp,certs \
  -o "oci:$TMP/img:v1" || fail "dslim binary --with passwd,tmp,certs failed"

# Config Env.
skopeo_ inspect --config "oci:$TMP/img:v1" >"$TMP/config.json" || fail "skopeo inspect --config failed"
jq -e '.config.Env | index("SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt")' "$TMP/config.json" >/dev/null ||
  fail "Env lacks SSL_CERT_FILE: $(jq -c .config.Env "$TMP/config.json")"

# The layer, as tar sees it.
layer=$(jq -r '.layers[0].digest' "$TMP/img/blobs/sha256/$(jq -r '.manifests[0].digest' "$TMP/img/index.json" | cut -d: -f2)")
tar -tvzf "$TMP/img/blobs/sha256/${layer#sha256:}" >"$TMP/layer.txt" || fail "the layer is not a gzip tar"
grep -qE '^drwxrwxrwt +0/0 .* tmp/?$' "$TMP/layer.txt" || fail "no /tmp 1777 owned by 0/0 in the layer: $(grep tmp "$TMP/layer.txt")"
grep -qE '^drwx------ +65532/65532 .* home/nonroot/?$' "$TMP/layer.txt" ||
  fail "no /home/nonroot 0700 owned by 65532: $(grep home "$TMP/layer.txt")"
leaks=$(grep -E ' (tmp|root|home/nonroot)/.' "$TMP/layer.txt" || true)
[[ -z $leaks ]] || fail "the source's /tmp, /root or /home/nonroot leaked into the image: $leaks"

# The unpacked root filesystem.
umoci --log error unpack --image "$TMP/img:v1" "$TMP/bundle" >/dev/null || fail "umoci unpack failed"
rootfs=$TMP/bundle/rootfs
grep -qx 'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' "$rootfs/etc/passwd" ||
  fail "/etc/passwd lacks nonroot 65532: $(cat "$rootfs/etc/passwd")"
grep -q '^root:x:0:0:' "$rootfs/etc/passwd" || fail "/etc/passwd lacks root"
grep -qx 'nonroot:x:65532:' "$rootfs/etc/group" || fail "/etc/group lacks nonroot 65532"
[[ $(stat -c %a "$rootfs/tmp") == 1777 ]] || fail "/tmp mode is $(stat -c %a "$rootfs/tmp"), want 1777"
[[ -z $(ls -A "$rootfs/tmp") ]] || fail "/tmp is not empty: $(ls -A "$rootfs/tmp")"
cmp -s "$rootfs/etc/ssl/certs/ca-certificates.crt" "$root/etc/ssl/certs/ca-certificates.crt" ||
  fail "the CA bundle is missing or differs"
echo "ok: passwd, tmp, certs"
