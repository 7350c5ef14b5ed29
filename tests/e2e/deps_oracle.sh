#!/usr/bin/env bash
# Oracle: for every dynamic executable in /usr/bin and /usr/sbin that glibc's
# own loader resolves completely, `dslim deps --format list` must name the
# same set of real files as `ld.so --list` (DSLIM_ORACLE_LIMIT caps the count).
source "$(dirname "$0")/../support/e2e.sh"
need python3
python3 "$(dirname "$0")/../support/deps_oracle.py"
