#!/usr/bin/env bash
# Start-up cost (issue 2): every shared library dslim links is loaded, mapped
# and relocated at every start, so only libc and libm may be linked (and the
# loader itself, which the static libgcc names). libcurl (~26 libraries with
# its own) and ISA-L are loaded on first use through src/registry/curl_shim.cpp
# and src/rootfs/isal_shim.cpp, never linked.
source "$(dirname "$0")/../support/e2e.sh"
need readelf
needed=$(readelf -d "$DSLIM" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | grep -v '^ld-linux' | sort)
# A sanitizer build keeps its runtimes and the shared libstdc++.
if grep -q '^libasan' <<<"$needed"; then
  needed=$(grep -vE '^(libasan|libubsan|libstdc\+\+|libgcc_s)\.' <<<"$needed")
fi
needed=$(tr '\n' ' ' <<<"$needed")
[[ $needed == "libc.so.6 libm.so.6 " ]] ||
  fail "dslim links more than libc and libm: $needed (load it on first use, as src/registry/curl_shim.cpp does)"
"$DSLIM" --version >/dev/null || fail "dslim --version"
# deps inflates nothing, so it must not load ISA-L either.
loaded=$(LD_DEBUG=files "$DSLIM" deps "$DSLIM" --format list 2>&1 >/dev/null) || fail "dslim deps of itself"
grep -q 'file=libisal' <<<"$loaded" && fail "dslim deps loaded ISA-L"
echo "ok: dslim links $needed"
