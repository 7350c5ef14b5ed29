"""Oracle: `dslim deps --format list` names the same real files as `ld.so --list`.

For every dynamic executable in /usr/bin and /usr/sbin that glibc's own loader
resolves completely. Every one of them runs here, so dslim must report no
missing symbol or version either (nothing on stderr): any report is a false
alarm. Run by tests/e2e/deps_oracle.sh; two processes per binary
and the path work in-process keep it quick.
"""
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

LDSO = "/lib64/ld-linux-x86-64.so.2"
DSLIM = os.environ["DSLIM"]
LIMIT = int(os.environ.get("DSLIM_ORACLE_LIMIT", "100000"))
HWCAPS = re.compile(r"/glibc-hwcaps/[^/]*/")


def real_files(paths):
    out = set()
    for p in paths:
        r = os.path.realpath(p)
        if os.path.isfile(r):
            out.add(HWCAPS.sub("/", r))
    return out


def candidates():
    seen = set()
    for d in ("/usr/bin", "/usr/sbin"):
        for name in sorted(os.listdir(d)):
            real = os.path.realpath(os.path.join(d, name))
            if real in seen or not os.path.isfile(real):
                continue
            seen.add(real)
            try:
                with open(real, "rb") as f:
                    if f.read(4) != b"\x7fELF":
                        continue
            except OSError:
                continue
            yield real


def check(binary):
    """None when ld.so cannot fully resolve it; else (binary, want, got, error)."""
    ld = subprocess.run([LDSO, "--list", binary], capture_output=True, text=True)
    if ld.returncode != 0 or "not found" in ld.stdout or "=>" not in ld.stdout:
        return None
    want = real_files(re.findall(r"(/\S+) \(0x", ld.stdout))
    ds = subprocess.run([DSLIM, "deps", binary, "--format", "list"],
                        capture_output=True, text=True)
    if ds.returncode != 0 or ds.stderr:
        return (binary, want, set(), ds.stderr.strip() or f"exit {ds.returncode}")
    return (binary, want, real_files(ds.stdout.split()), "")


def main():
    checked = differ = 0
    workers = os.cpu_count() or 2
    todo = list(candidates())
    with ThreadPoolExecutor(max_workers=workers) as pool:
        # Batches, so a LIMIT stops the work and not just the counting.
        while todo and checked < LIMIT:
            batch, todo = todo[:4 * workers], todo[4 * workers:]
            for result in pool.map(check, batch):
                if result is None or checked >= LIMIT:
                    continue
                checked += 1
                binary, want, got, error = result
                if want != got or error:
                    differ += 1
                    print(f"DIFF {binary} {error}")
                    print("  only ld.so:", sorted(want - got))
                    print("  only dslim:", sorted(got - want))
    print(f"oracle: {checked} binaries checked, {differ} differences")
    if differ:
        sys.exit(f"FAIL: {differ} binaries differ from ld.so --list")
    if checked < min(LIMIT, 300):
        sys.exit(f"FAIL: only {checked} binaries checked; expected hundreds")


main()
