#!/usr/bin/env bash
# Start-up cost (issue 2): every shared library dslim links is loaded, mapped
# and relocated at every start, so only libc, libm and ISA-L may be linked
# (and the loader itself, which the static libgcc names).
# libcurl in particular (~26 libraries with its own) is loaded on first use
# through src/registry/curl_shim.cpp, never linked.
source "$(dirname "$0")/../support/e2e.sh"
need readelf
needed=$(readelf -d "$DSLIM" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | grep -v '^ld-linux' | sort)
# A sanitizer build keeps its runtimes and the shared libstdc++.
if grep -q '^libasan' <<<"$needed"; then
  needed=$(grep -vE '^(libasan|libubsan|libstdc\+\+|libgcc_s)\.' <<<"$needed")
fi
needed=$(tr '\n' ' ' <<<"$needed")
[[ $needed == "libc.so.6 libisal.so.2 libm.so.6 " ]] ||
  fail "dslim links more than libc, libm, ISA-L: $needed (link libcurl through src/registry/curl_shim.cpp)"
"$DSLIM" --version >/dev/null || fail "dslim --version"
echo "ok: dslim links $needed"
