#!/usr/bin/env bash
# `dslim deps` as a user runs it: formats, exit codes, one-line errors.
source "$(dirname "$0")/../support/e2e.sh"
need jq
FX=$DSLIM_FIXTURE_DIR

# tree: the library, the rule that found it, the interpreter
out=$("$DSLIM" deps "$FX/bin/app_runpath")
grep -q 'libx.so.1 => .*/lib/libx.so.1 -> .*/lib/libx.so.1.2.3 \[runpath\]' <<<"$out" || fail "tree: $out"
grep -q 'interpreter => /lib64/ld-linux-x86-64.so.2' <<<"$out" || fail "tree interpreter: $out"

# list: physical paths, symlinks included
list=$("$DSLIM" deps "$FX/bin/app_runpath" --format list)
grep -qx "$(readlink -f "$FX/lib")/libx.so.1" <<<"$list" || fail "list lacks the libx.so.1 link"
grep -qx "$(readlink -f "$FX/lib")/libx.so.1.2.3" <<<"$list" || fail "list lacks the real libx"

# json: the graph
"$DSLIM" deps "$FX/bin/app_rpath" --format json >"$TMP/g.json"
[[ $(jq -r '.objects[] | select(.name=="libb.so") | .found_by' "$TMP/g.json") == rpath ]] ||
  fail "json: libb.so not found by rpath"
[[ $(jq '.missing | length' "$TMP/g.json") == 0 ]] || fail "json: unexpected missing"

# a missing library: exit 2, who needs it and where the loader looked
set +e
"$DSLIM" deps "$FX/bin/app_runpath_a" --format list >"$TMP/out" 2>"$TMP/err"
rc=$?
set -e
[[ $rc == 2 ]] || fail "missing library: exit $rc, want 2"
grep -q 'libb.so needed by .*/liba.so: not found in dir:/ (searched .*/etc/ld.so.cache' "$TMP/err" ||
  fail "missing library message: $(cat "$TMP/err")"

# bad APPs: exit 2, one line naming the file
printf 'not an elf\n' >"$TMP/text"
head -c 100 "$FX/bin/app_runpath" >"$TMP/truncated"
for bad in "$TMP/text" "$TMP/truncated" "$TMP/missing" "$TMP"; do
  set +e
  "$DSLIM" deps "$bad" >"$TMP/out" 2>"$TMP/err"
  rc=$?
  set -e
  [[ $rc == 2 ]] || fail "$bad: exit $rc, want 2"
  [[ $(wc -l <"$TMP/err") == 1 ]] || fail "$bad: want one line, got: $(cat "$TMP/err")"
  grep -q "$bad" "$TMP/err" || fail "$bad: error does not name it: $(cat "$TMP/err")"
  [[ ! -s $TMP/out ]] || fail "$bad: wrote to stdout"
done

# usage errors exit 1
set +e
"$DSLIM" deps --format nope "$FX/bin/app_runpath" 2>/dev/null; rc1=$?
"$DSLIM" deps "$FX/bin/app_runpath" --from oci-nope:/x 2>/dev/null; rc2=$?
set -e
[[ $rc1 == 1 && $rc2 == 1 ]] || fail "usage errors: exit $rc1/$rc2, want 1"

"$DSLIM" deps --help | grep -q 'Examples:' || fail "--help has no examples"
echo "deps_cli: ok"
