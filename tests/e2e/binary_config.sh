#!/usr/bin/env bash
# Image config options land where skopeo reads them; --compression zstd writes
# a zstd layer that skopeo and dslim inspect read.
source "$(dirname "$0")/../support/e2e.sh"
need skopeo jq
app=$DSLIM_FIXTURE_DIR/bin/hello_static
"$DSLIM" -q binary "$app" --expose 8080 --expose 53/udp --workdir /work --label org.example.team=core \
  --env FOO=bar --entrypoint '["/app","x"]' --cmd '["y"]' --user 10:20 -o "oci:$TMP/img:cfg" ||
  fail "dslim binary with config options failed"
skopeo_ inspect --config "oci:$TMP/img:cfg" | jq -c .config >"$TMP/config.json" || fail "skopeo inspect --config failed"
check() { jq -e "$1" "$TMP/config.json" >/dev/null || fail "config: $1 is false in $(cat "$TMP/config.json")"; }
check '.User == "10:20"'
check '.ExposedPorts == {"8080/tcp": {}, "53/udp": {}}'
check '.WorkingDir == "/work"'
check '.Labels == {"org.example.team": "core"}'
check '.Env | index("FOO=bar")'
check '.Env | map(select(startswith("PATH="))) | length == 1'
check '.Entrypoint == ["/app", "x"]'
check '.Cmd == ["y"]'
# --env PATH=... replaces the default PATH, in its place: one PATH.
"$DSLIM" -q binary "$app" --env PATH=/opt/bin:/usr/bin --env FOO=1 --env FOO=2 -o "oci:$TMP/img:path" ||
  fail "dslim binary --env PATH=... failed"
env_json=$(skopeo_ inspect --config "oci:$TMP/img:path" | jq -c .config.Env)
[[ $env_json == '["PATH=/opt/bin:/usr/bin","FOO=2"]' ]] || fail "--env PATH=/opt/bin:/usr/bin: Env is $env_json"
# -q and -v after the subcommand, as docker, skopeo and crane take them.
out=$("$DSLIM" binary "$app" -q -o "oci:$TMP/img:quiet") || fail "dslim binary APP -q failed"
[[ $out =~ ^sha256:[0-9a-f]{64}$ ]] || fail "-q after the subcommand: printed $out, want the digest only"
"$DSLIM" binary "$app" -o "oci:$TMP/img:verbose" -v >/dev/null 2>"$TMP/verbose.err" || fail "dslim binary ... -v failed"
grep -q "objects resolved" "$TMP/verbose.err" || fail "-v at the end said nothing more: $(cat "$TMP/verbose.err")"
# The platform comes from the ELF header.
[[ $(skopeo_ inspect "oci:$TMP/img:cfg" | jq -r '.Os + "/" + .Architecture') == linux/amd64 ]] ||
  fail "platform is not linux/amd64"

"$DSLIM" -q binary "$app" --compression zstd -o "oci:$TMP/img:zstd" || fail "--compression zstd failed"
skopeo_ inspect --raw "oci:$TMP/img:zstd" | jq -r '.layers[0].mediaType' >"$TMP/mt"
[[ $(cat "$TMP/mt") == application/vnd.oci.image.layer.v1.tar+zstd ]] || fail "zstd layer media type is $(cat "$TMP/mt")"
"$DSLIM" inspect "oci:$TMP/img:zstd" --format json | jq -e '[.files[].path] == ["/app"]' >/dev/null ||
  fail "dslim inspect cannot read the zstd image"
echo "ok: config and zstd"
