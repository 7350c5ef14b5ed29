#!/usr/bin/env bash
# --probe of a program for another machine (an AArch64 Go program, static, on
# x86-64): without qemu-user registered with binfmt_misc it is exit 2 saying
# so, and nothing is written; registered with the F flag (as Debian's
# qemu-user-static registers it), the probe runs it through qemu and the file
# it reads comes into the image. Registering is a change to this machine's
# kernel: the test undoes what it did (unregisters, unmounts) when it ends.
source "$(dirname "$0")/../support/e2e.sh"
need jq
APP=$DSLIM_FIXTURE_DIR/probe/read_arm64
file -L "$APP" | grep -q "ARM aarch64" || fail "$APP is not an AArch64 program: $(file -L "$APP")"
binfmt_setup

root=$TMP/root
mkdir -p "$root/etc"
echo "arm64 data" >"$root/etc/data.txt"
echo "never read" >"$root/etc/other.txt"

# 1. No entry for AArch64 (an existing one is disabled for the while).
qemu_aarch64 off
expect_exit 2 "$DSLIM" binary "$APP" --from "dir:$root" --probe /etc/data.txt -o "oci:$TMP/img:arm"
[[ $E2E_STDERR == *"/app is a program for AArch64 and this machine runs x86-64 ones: probing it needs qemu-user registered with binfmt_misc"* ]] ||
  fail "unexpected message without qemu: $E2E_STDERR"
[[ ! -e $TMP/img ]] || fail "something was written without qemu"
echo "ok: no qemu: $E2E_STDERR"

# 2. Registered with F: the kernel keeps the interpreter open, the sandbox's root needs none.
qemu_aarch64 on
"$DSLIM" binary "$APP" --from "dir:$root" --probe /etc/data.txt --report json \
  -o "oci:$TMP/img:arm" >"$TMP/arm.json" 2>"$TMP/arm.err" || fail "probe through qemu failed: $(cat "$TMP/arm.err")"
jq -e '.probes[0].status == 0 and (.probes[0].added | index("/etc/data.txt"))' "$TMP/arm.json" >/dev/null ||
  fail "the probe did not run or did not bring /etc/data.txt: $(jq -c .probes "$TMP/arm.json")"
image_entries arm "oci:$TMP/img:arm"
jq -e '[.files[].path] | index("/etc/data.txt") and (index("/etc/other.txt") | not)' "$TMP/entries-arm.json" >/dev/null ||
  fail "the image should hold /etc/data.txt and not /etc/other.txt: $(jq -c '[.files[].path]' "$TMP/entries-arm.json")"
echo "ok: through qemu-user: $(jq -c '.probes[0] | {status, added}' "$TMP/arm.json")"
