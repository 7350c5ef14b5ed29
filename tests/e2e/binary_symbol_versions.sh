#!/usr/bin/env bash
# A program the source's libraries cannot start is refused before an image is
# written (exit 2, one line naming the program, the symbol, the version and
# the library): a version a library lacks (libraries built with version
# scripts; a host-built program against Debian 11's glibc 2.31, which lacks
# GLIBC_2.34), a function no library defines (glibc, and musl's form: a
# program needing qsort_r from a libc without it). What the loader accepts
# passes and runs: a weak undefined symbol, the older version of a library,
# bullseye's own /bin/ls. `deps` reports the same and exits 2.
source "$(dirname "$0")/../support/e2e.sh"
need skopeo umoci runc jq
V=$DSLIM_FIXTURE_DIR/ver

# A root with this machine's loader and libc, and libver.so.1 of build $1
# where the programs' RUNPATH ($ORIGIN/../lib) finds it from /opt/ver/bin.
ver_root() {
  local root=$TMP/root-$1
  mkdir -p "$root/lib64" "$root/lib/x86_64-linux-gnu" "$root/opt/ver/lib"
  cp -L /lib64/ld-linux-x86-64.so.2 "$root/lib64/"
  cp -L /lib/x86_64-linux-gnu/libc.so.6 "$root/lib/x86_64-linux-gnu/"
  cp -L "$V/$1/lib/libver.so.1" "$root/opt/ver/lib/"
  echo "$root"
}
old=$(ver_root old)

# binary_of BUILD APP TAG [flags]: slims the app against the old library.
binary_of() {
  local build=$1 app=$2 tag=$3; shift 3
  "$DSLIM" binary "$V/$build/bin/$app" --from "dir:$old" --dest "/opt/ver/bin/$app" \
    -o "oci:$TMP/img:$tag" "$@"
}

# A version the library lacks.
expect_exit 2 binary_of new app_ver_two two
grep -q "/opt/ver/bin/app_ver_two needs V_2 (ver_two) from libver.so.1, but libver.so.1 in dir:$old (/opt/ver/lib/libver.so.1) defines V_1: " <<<"$E2E_STDERR" ||
  fail "the message does not name the program, version, symbol and library: $E2E_STDERR"
[[ ! -e $TMP/img ]] || fail "an image was written for a program that cannot start"
# --allow-missing-symbols writes it with a warning.
binary_of new app_ver_two two --allow-missing-symbols 2>"$TMP/allow.err" >/dev/null ||
  fail "--allow-missing-symbols did not write the image: $(cat "$TMP/allow.err")"
grep -q 'warning.*needs V_2 (ver_two)' "$TMP/allow.err" || fail "no warning with --allow-missing-symbols: $(cat "$TMP/allow.err")"
echo "ok: --allow-missing-symbols writes it, with a warning"

# A function of an existing version that the library lacks.
expect_exit 2 binary_of maybe app_missing_ver_fn missing_ver_fn
grep -q 'needs ver_maybe@V_1 from libver.so.1, but libver.so.1 in .* does not define it' <<<"$E2E_STDERR" ||
  fail "unexpected message: $E2E_STDERR"
# An unversioned function no object defines.
expect_exit 2 binary_of gone app_missing_fn missing_fn
grep -q '/opt/ver/bin/app_missing_fn needs ver_gone, but no object it loads from ' <<<"$E2E_STDERR" ||
  fail "unexpected message: $E2E_STDERR"

# What the loader accepts: the older library has the version needed; a weak
# undefined symbol is null, not an error.
binary_of new app_ver_one one >/dev/null || fail "app_ver_one against the old library was refused"
expect_runs "$TMP/img:one" "ver_one: 1"
binary_of maybe app_weak weak >/dev/null || fail "a weak undefined symbol was refused"
expect_runs "$TMP/img:weak" "ver_maybe: absent"

# deps: the same findings in each format, exit 2.
mkdir -p "$old/opt/ver/bin" && cp "$V/new/bin/app_ver_two" "$old/opt/ver/bin/"
deps_of() { "$DSLIM" deps --pick /opt/ver/bin/app_ver_two --from "dir:$old" "$@"; }
rc=0; deps_of --format json >"$TMP/deps.json" 2>/dev/null || rc=$?
((rc == 2)) || fail "deps --format json exited $rc, want 2"
jq -e '.symbols[0] | .issue == "missing_version" and .severity == "error" and .version == "V_2"
  and .symbol == "ver_two" and .library == "libver.so.1" and .provider == "/opt/ver/lib/libver.so.1"
  and .provider_versions == ["V_1"]' "$TMP/deps.json" >/dev/null || fail "deps json: $(jq -c .symbols "$TMP/deps.json")"
rc=0; deps_of >"$TMP/deps.txt" 2>/dev/null || rc=$?
((rc == 2)) || fail "deps (tree) exited $rc, want 2"
grep -q '^error: .*needs V_2 (ver_two) from libver.so.1' "$TMP/deps.txt" || fail "deps tree lacks the problem: $(cat "$TMP/deps.txt")"
rc=0; deps_of --format list >"$TMP/deps.list" 2>"$TMP/deps.err" || rc=$?
((rc == 2)) || fail "deps --format list exited $rc, want 2"
grep -q 'needs V_2 (ver_two)' "$TMP/deps.err" || fail "deps list: nothing on stderr: $(cat "$TMP/deps.err")"
echo "ok: deps reports it in tree, list and json, and exits 2"

# musl: qsort_r from a libc that lacks it (a stand-in for musl 1.2.2).
mroot=$TMP/musl-old
mkdir -p "$mroot/lib"
cp "$DSLIM_FIXTURE_DIR/musl/lib/libc_no_qsort_r.so" "$mroot/lib/ld-musl-x86_64.so.1"
expect_exit 2 "$DSLIM" binary "$DSLIM_FIXTURE_DIR/musl/bin/musl_qsort_r" --from "dir:$mroot" -o "oci:$TMP/img:musl"
grep -q '/app needs qsort_r, but no object it loads from ' <<<"$E2E_STDERR" || fail "unexpected message: $E2E_STDERR"
# ... and this machine's musl has it: the image runs.
"$DSLIM" -q binary "$DSLIM_FIXTURE_DIR/musl/bin/musl_qsort_r" -o "oci:$TMP/img:musl" >/dev/null ||
  fail "musl_qsort_r against this machine's musl was refused"
expect_runs "$TMP/img:musl" "qsort_r: 1 2 3 4 5"

# A real older glibc: Debian 11 (2.31).
test_root bullseye
bullseye=$TEST_ROOT
expect_exit 2 "$DSLIM" binary "$DSLIM_FIXTURE_DIR/bin/hello_plain" --from "dir:$bullseye" -o "oci:$TMP/img:b"
# (glibc 2.31 added no symbol version of its own: GLIBC_2.30 is its newest.)
grep -qF "dslim: /app needs GLIBC_2.34 (__libc_start_main) from libc.so.6, but libc.so.6 in dir:$bullseye (/usr/lib/x86_64-linux-gnu/libc-2.31.so) defines GLIBC_2.2.5 … GLIBC_2.30: build against that glibc or use a newer source image; nothing written" <<<"$E2E_STDERR" ||
  fail "unexpected message: $E2E_STDERR"
"$DSLIM" -q binary --pick /bin/ls --from "dir:$bullseye" -o "oci:$TMP/img:ls" >/dev/null ||
  fail "bullseye's own /bin/ls was refused"
expect_runs "$TMP/img:ls" "bin" /bin/ls /
