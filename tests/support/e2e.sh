# Shared helpers for the end-to-end tests (sourced, not run).
set -euo pipefail
: "${DSLIM:?DSLIM must point at the built dslim}"

fail() { echo "FAIL: $*" >&2; exit 1; }

# A tool the test needs: under CI a missing tool fails; elsewhere the test is skipped.
need() {
  for tool in "$@"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      [[ -n "${CI:-}" ]] && fail "$tool is required under CI (scripts/bootstrap installs it)"
      echo "SKIP: $tool not installed"; exit 0
    fi
  done
}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/dslim-e2e-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
