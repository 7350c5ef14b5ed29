#!/usr/bin/env bash
# Start-up cost (issue 2): every shared library dslim links is loaded, mapped
# and relocated at every start, so only libc may be linked (and the loader
# itself, which the static libgcc names). libcurl (~26 libraries with its
# own) and ISA-L are loaded on first use through src/registry/curl_shim.cpp
# and src/rootfs/isal_shim.cpp, never linked; libm is left out by making the
# math calls of the static libxml2 and ICU weak (scripts/weaken-libm-refs).
source "$(dirname "$0")/../support/e2e.sh"
need readelf nm gcc
needed=$(readelf -d "$DSLIM" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | grep -v '^ld-linux' | sort)
# A sanitizer build keeps its runtimes and the shared libstdc++ (with libm).
if grep -q '^libasan' <<<"$needed"; then
  needed=$(grep -vE '^(libasan|libubsan|libstdc\+\+|libgcc_s|libm)\.' <<<"$needed")
fi
needed=$(tr '\n' ' ' <<<"$needed")
[[ $needed == "libc.so.6 " ]] ||
  fail "dslim links more than libc: $needed (load it on first use, as src/registry/curl_shim.cpp does)"
# A weak libm name left in dslim would be a null call at run time: the code
# naming it must stay dropped by --gc-sections.
libm=$(gcc -print-file-name=libm.so.6)
weak=$( (nm --undefined-only "$DSLIM" 2>/dev/null || true; nm -D --undefined-only "$DSLIM") |
  awk '$1 == "w" {sub(/@.*/, "", $2); print $2}' | sort -u)
left=$(comm -12 <(printf '%s\n' "$weak") <(nm -D --defined-only --format=just-symbols "$libm" | sed 's/@.*//' | sort -u) | tr '\n' ' ')
[[ -z $left ]] || fail "dslim names libm functions weakly, with no libm to bind them: $left"
"$DSLIM" --version >/dev/null || fail "dslim --version"
# deps inflates nothing, so it must not load ISA-L either.
loaded=$(LD_DEBUG=files "$DSLIM" deps "$DSLIM" --format list 2>&1 >/dev/null) || fail "dslim deps of itself"
grep -q 'file=libisal' <<<"$loaded" && fail "dslim deps loaded ISA-L"
echo "ok: dslim links $needed"
