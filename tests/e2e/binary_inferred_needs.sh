#!/usr/bin/env bash
# Needs no ELF header names, inferred from what the code imports, with no
# preset flag: each program is slimmed from this machine, run under runc, and
# must print what it found. The report names each inferred need and why;
# --without drops one (and the program then fails as it would have); a plain
# hello gets nothing extra.
source "$(dirname "$0")/../support/e2e.sh"
need skopeo umoci runc jq
N=$DSLIM_FIXTURE_DIR/needs

# slim NAME PROGRAM [dslim flags...]: the image oci:$TMP/img:NAME, the text
# report in $TMP/NAME.txt.
slim() {
  local name=$1 program=$2; shift 2
  "$DSLIM" binary "$program" "$@" -o "oci:$TMP/img:$name" >"$TMP/$name.txt" 2>"$TMP/$name.err" ||
    fail "dslim binary $program $* failed: $(cat "$TMP/$name.err")"
}

# runs NAME LINE...: the image runs and prints every LINE.
runs() {
  local name=$1; shift
  local bundle=$TMP/bundle-$name out rc=0
  unpack_bundle "$TMP/img:$name" "$bundle"
  out=$(run_bundle "$bundle") || rc=$?
  ((rc == 0)) || fail "$name: exit $rc; stdout: $out; stderr: $(cat "$TMP/run.err")"
  local line
  for line in "$@"; do
    grep -qxF -- "$line" <<<"$out" || fail "$name: expected '$line', got: $out"
  done
  echo "ok: $name prints: $(tr '\n' '|' <<<"$out")"
}

# fails NAME STDERR-REGEX: the image runs and fails, saying so on stderr.
fails() {
  local name=$1 bundle=$TMP/bundle-$1
  unpack_bundle "$TMP/img:$name" "$bundle"
  ! run_bundle "$bundle" >/dev/null || fail "$name: ran though it should have failed"
  grep -qE -- "$2" "$TMP/run.err" || fail "$name: unexpected failure: $(cat "$TMP/run.err")"
  echo "ok: $name fails: $(head -1 "$TMP/run.err")"
}

# inferred NAME NEED REASON-REGEX: the report says NEED was inferred, and why.
inferred() {
  grep -qE "^inferred $2 — $3" "$TMP/$1.txt" ||
    fail "$1: no 'inferred $2 — $3' in the report: $(grep inferred "$TMP/$1.txt")"
}

# C: getpwuid(0) and getaddrinfo("localhost").
slim user_host "$N/needs_user_host"
inferred user_host passwd '/app imports getpwuid$'
inferred user_host nss '/app imports getaddrinfo'
runs user_host "user 0: root" "localhost: 127.0.0.1"

# C with OpenSSL: the default verify paths load the CA bundle.
slim certs "$N/needs_certs"
inferred certs certs '/app links libssl\.so\.3'
runs certs "certificates: $(grep -c 'BEGIN CERTIFICATE' /etc/ssl/certs/ca-certificates.crt)"
skopeo_ inspect --config "oci:$TMP/img:certs" | jq -e '.config.Env | index("SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt")' >/dev/null ||
  fail "certs: the Env lacks SSL_CERT_FILE"

# C with iconv to a charset glibc has as a module, not built in.
slim iconv "$N/needs_iconv"
inferred iconv "gconv ISO-8859-15" '/app imports iconv_open and names ISO-8859-15'
runs iconv "iconv ISO-8859-15: a4"
"$DSLIM" inspect "oci:$TMP/img:iconv" --format json >"$TMP/iconv.json"
jq -e '[.files[].path] | any(endswith("/gconv/ISO8859-15.so"))' "$TMP/iconv.json" >/dev/null ||
  fail "iconv: no ISO8859-15.so in the image"
! jq -e '[.files[].path] | any(endswith("/gconv/EUC-JP.so"))' "$TMP/iconv.json" >/dev/null ||
  fail "iconv: modules of charsets the program never names came along"
slim iconv_without "$N/needs_iconv" --without gconv
fails iconv_without 'iconv_open.*Invalid argument'

# Go with cgo: os/user and net through glibc.
slim go_cgo "$N/needs_go_cgo"
inferred go_cgo passwd '/app imports getgrgid_r, getgrnam_r, getpwnam_r'
inferred go_cgo nss '/app imports getaddrinfo'
runs go_cgo "user 0: root" "localhost: 127.0.0.1"

# Static, stripped Go: crypto/x509 system roots and time.LoadLocation, found
# from the function table.
slim go_static "$N/needs_go_static"
inferred go_static certs '/app \(Go\) uses crypto/x509'
inferred go_static tzdata '/app \(Go\) calls time.LoadLocation without time/tzdata'
runs go_static "system roots: $(grep -c 'BEGIN CERTIFICATE' /etc/ssl/certs/ca-certificates.crt)" \
  "zone America/New_York: EST"

# pthread_cancel: glibc unwinds the thread through a dlopen'ed libgcc_s.so.1.
slim cancel "$N/needs_cancel"
inferred cancel libgcc_s.so.1 '/app imports pthread_cancel'
runs cancel "cancelled: yes"
slim cancel_without "$N/needs_cancel" --without libgcc_s
fails cancel_without 'libgcc_s\.so\.1 must be installed'

# A shared object added as a file brings its own libraries (libz), as an APP
# does; the program dlopens it at run time.
slim plugin "$N/dlopen_plugin" --add "$N/plugin_z.so:/opt/plugins/plugin_z.so"
runs plugin "plugin: $(sed -n 's/^#define ZLIB_VERSION "\(.*\)"/\1/p' /usr/include/zlib.h)"
! grep -q 'imports dlopen' "$TMP/plugin.err" || fail "plugin: a dlopen warning though libz is in the image"
# So does one taken from the source with --include: EUC-JP.so brings libJIS.so.
gconv_dir=$(dirname "$(readlink -f /usr/lib/x86_64-linux-gnu/gconv/EUC-JP.so)")
slim include "$DSLIM_FIXTURE_DIR/bin/hello_plain" --include "$gconv_dir/EUC-JP.so"
"$DSLIM" inspect "oci:$TMP/img:include" --format json | jq -r '.files[].path' >"$TMP/include.files"
grep -q '/gconv/libJIS\.so$' "$TMP/include.files" || fail "--include EUC-JP.so did not bring libJIS.so: $(cat "$TMP/include.files")"
echo "ok: an --include'd shared object brings its libraries"
# Without the plugin, the program's dlopen("libz.so.1") is named in a warning.
slim dlopen "$N/dlopen_plugin"
grep -q "warning: /app imports dlopen and names libraries that dir:/.* has and the image lacks: .*/libz\.so\.1; add those it loads with --include" "$TMP/dlopen.err" ||
  fail "no dlopen warning naming libz.so.1: $(cat "$TMP/dlopen.err")"
echo "ok: dlopen hint: $(cat "$TMP/dlopen.err")"

# The report in JSON carries the same.
"$DSLIM" binary "$N/needs_go_static" --report json -o "oci:$TMP/img:json" >"$TMP/report.json"
jq -e '[.inferred[].need] | index("certs") and index("tzdata")' "$TMP/report.json" >/dev/null ||
  fail "--report json lacks the inferred needs: $(jq -c .inferred "$TMP/report.json")"
jq -e '.inferred[] | select(.need == "certs") | .reason | test("crypto/x509")' "$TMP/report.json" >/dev/null ||
  fail "--report json: no reason for certs"

# --without all: nothing inferred; a plain C hello gets nothing either.
slim none "$N/needs_user_host" --without all
! grep -q '^inferred' "$TMP/none.txt" || fail "--without all still inferred: $(grep inferred "$TMP/none.txt")"
slim hello "$DSLIM_FIXTURE_DIR/bin/hello_plain"
! grep -q '^inferred' "$TMP/hello.txt" || fail "a plain hello got: $(grep inferred "$TMP/hello.txt")"
"$DSLIM" inspect "oci:$TMP/img:hello" --format json | jq -r '.files[].path' >"$TMP/hello.files"
! grep -qE '^/etc/|zoneinfo|gconv|ssl' "$TMP/hello.files" || fail "a plain hello got extra files: $(cat "$TMP/hello.files")"
runs hello "hello from dslim"
echo "ok: no inference on a plain program or with --without all"

# TZ in the Env brings that zone's file, and only it.
slim tz "$DSLIM_FIXTURE_DIR/bin/hello_plain" --env TZ=Europe/Paris
inferred tz "zone Europe/Paris" 'TZ=Europe/Paris in the image'
"$DSLIM" inspect "oci:$TMP/img:tz" --format json | jq -r '.files[].path' >"$TMP/tz.files"
grep -qx '/usr/share/zoneinfo/Europe/Paris' "$TMP/tz.files" || fail "TZ: no /usr/share/zoneinfo/Europe/Paris: $(grep zoneinfo "$TMP/tz.files")"
[[ $(grep -c zoneinfo/ "$TMP/tz.files") -le 2 ]] || fail "TZ: more zones than the one named: $(grep zoneinfo "$TMP/tz.files")"
echo "ok: TZ=Europe/Paris brings that zone only"

# A glibc before 2.34 (Debian 11) dlopens its NSS modules: inferred nss
# brings libnss_files and libnss_dns with the configuration, and bullseye's
# own getent finds root and localhost in the image.
test_root bullseye
bullseye=$TEST_ROOT
"$DSLIM" binary --pick /usr/bin/getent --from "dir:$bullseye" -o "oci:$TMP/img:getent" >"$TMP/getent.txt" ||
  fail "dslim binary getent from bullseye failed"
inferred getent nss '/usr/bin/getent imports getaddrinfo'
grep -q 'libnss_files-2\.31\.so' "$TMP/getent.txt" || fail "getent: no libnss_files from bullseye: $(cat "$TMP/getent.txt")"
unpack_bundle "$TMP/img:getent" "$TMP/bundle-getent"
out=$(run_bundle "$TMP/bundle-getent" /usr/bin/getent passwd root) || fail "getent passwd root failed: $(cat "$TMP/run.err")"
[[ $out == root:x:0:0:* ]] || fail "getent passwd root printed: $out"
# (hosts, not ahosts: a container's network has no address, and ahosts asks
# for AI_ADDRCONFIG.)
out=$(run_bundle "$TMP/bundle-getent" /usr/bin/getent hosts localhost) || fail "getent hosts localhost failed: $(cat "$TMP/run.err")"
grep -qE '^(::1|127\.0\.0\.1) +localhost' <<<"$out" || fail "getent hosts localhost printed: $out"
echo "ok: bullseye's getent finds root and localhost through its NSS modules"

# --with gconv: every module, each with the libraries it needs (EUC-JP.so
# needs libJIS.so, resolved as an ELF file the preset brings).
slim gconv_all "$N/needs_iconv" --with gconv
"$DSLIM" inspect "oci:$TMP/img:gconv_all" --format json | jq -r '.files[].path' >"$TMP/gconv_all.files"
for f in EUC-JP.so libJIS.so gconv-modules ISO8859-15.so; do
  grep -q "/gconv/$f\$" "$TMP/gconv_all.files" || fail "--with gconv lacks $f"
done
runs gconv_all "iconv ISO-8859-15: a4"
