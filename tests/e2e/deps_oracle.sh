#!/usr/bin/env bash
# Oracle: for every dynamic executable in /usr/bin and /usr/sbin that glibc's
# own loader resolves completely, `dslim deps --format list` must name the
# same set of real files as `ld.so --list`.
source "$(dirname "$0")/../support/e2e.sh"
LDSO=/lib64/ld-linux-x86-64.so.2
checked=0 differ=0
declare -A seen
for f in /usr/bin/* /usr/sbin/*; do
  bin=$(readlink -f "$f") || continue
  [[ -f $bin && -z ${seen[$bin]:-} ]] || continue
  seen[$bin]=1
  [[ $(head -c4 "$bin" 2>/dev/null | od -An -c | tr -d ' ') == '177ELF' ]] || continue
  expected=$("$LDSO" --list "$bin" 2>/dev/null) || continue
  grep -q 'not found' <<<"$expected" && continue
  grep -q '=>' <<<"$expected" || continue  # static-pie and odd objects
  want=$(grep -oE '/[^ ]+ \(0x' <<<"$expected" | sed 's/ (0x$//' | xargs -r readlink -f |
         sed 's|/glibc-hwcaps/[^/]*/|/|' | sort -u)
  got=$("$DSLIM" -q deps "$bin" --format list) || { echo "dslim failed on $bin"; differ=$((differ+1)); continue; }
  got=$(xargs -r readlink -f <<<"$got" | while read -r p; do [[ -f $p ]] && echo "$p"; done |
        sed 's|/glibc-hwcaps/[^/]*/|/|' | sort -u)
  if [[ "$want" != "$got" ]]; then
    differ=$((differ+1))
    echo "DIFF $bin"; diff <(echo "$want") <(echo "$got") | head -10
  fi
  checked=$((checked+1))
done
echo "oracle: $checked binaries checked, $differ differences"
(( differ == 0 )) || fail "$differ binaries differ from ld.so --list"
(( checked >= 100 )) || fail "only $checked binaries checked; expected hundreds"
