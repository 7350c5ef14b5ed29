#!/usr/bin/env bash
# The shared registry helpers work as the docker:// tests need them: a slim
# image pushed with credentials over plain http, over TLS with a private CA,
# and the registry's storage surviving a kill and restart.
source "$(dirname "$0")/../support/e2e.sh"
need skopeo jq htpasswd
"$DSLIM" -q binary "$DSLIM_FIXTURE_DIR/bin/hello_static" -o "oci:$TMP/img:1.0" || fail "dslim binary failed"
want=$(image_digest "oci:$TMP/img:1.0")

htpasswd -Bbn alice s3cret >"$TMP/htpasswd"
start_registry --htpasswd "$TMP/htpasswd"
skopeo_ copy -q --dest-tls-verify=false --dest-creds alice:s3cret "oci:$TMP/img:1.0" "docker://$REGISTRY/team/app:1.0" ||
  fail "skopeo could not push to $REGISTRY"
got=$(skopeo_ inspect --tls-verify=false --creds alice:s3cret "docker://$REGISTRY/team/app:1.0" | jq -r .Digest)
[[ $got == "$want" ]] || fail "pushed $want, registry has $got"
skopeo_ inspect --tls-verify=false --creds alice:wrong "docker://$REGISTRY/team/app:1.0" >/dev/null 2>&1 &&
  fail "a wrong password was accepted"

stop_registry
skopeo_ inspect --retry-times 0 --tls-verify=false --creds alice:s3cret "docker://$REGISTRY/team/app:1.0" >/dev/null 2>&1 &&
  fail "a stopped registry answered"
restart_registry
got=$(skopeo_ inspect --tls-verify=false --creds alice:s3cret "docker://$REGISTRY/team/app:1.0" | jq -r .Digest)
[[ $got == "$want" ]] || fail "after a restart the registry has $got"
echo "ok: push, auth, kill and restart on $REGISTRY"

make_test_ca "$TMP/ca"
start_registry --tls "$TMP/ca/server.crt" "$TMP/ca/server.key"
mkdir "$TMP/certs" && cp "$TMP/ca/ca.crt" "$TMP/certs/"
skopeo_ copy -q --dest-cert-dir "$TMP/certs" "oci:$TMP/img:1.0" "docker://$REGISTRY/team/app:1.0" ||
  fail "skopeo could not push over TLS with the test CA"
skopeo_ inspect --retry-times 0 "docker://$REGISTRY/team/app:1.0" >/dev/null 2>&1 &&
  fail "TLS without the CA was accepted"
echo "ok: TLS with a private CA on $REGISTRY"
