#!/usr/bin/env bash
# A bad APP (a text file, a missing file, a truncated ELF) is exit 2 with one
# line on stderr naming it, and nothing is written, for every output kind.
source "$(dirname "$0")/../support/e2e.sh"
mkdir "$TMP/in" "$TMP/out"
printf 'just some text\n' >"$TMP/in/notes.txt"
chmod +x "$TMP/in/notes.txt"
head -c 1000 "$DSLIM_FIXTURE_DIR/bin/hello_cpp" >"$TMP/in/truncated"
chmod +x "$TMP/in/truncated"
for app in "$TMP/in/notes.txt" "$TMP/in/missing" "$TMP/in/truncated"; do
  for dest in "oci:$TMP/out/layout:v1" "oci-archive:$TMP/out/a.tar" "docker-archive:$TMP/out/d.tar:x/y:1"; do
    expect_exit 2 "$DSLIM" binary "$app" -o "$dest"
    grep -qF "$app" <<<"$E2E_STDERR" || fail "the error should name $app: $E2E_STDERR"
    [[ -z $(ls -A "$TMP/out") ]] || fail "$app -> $dest left output behind: $(ls -A "$TMP/out")"
  done
done
