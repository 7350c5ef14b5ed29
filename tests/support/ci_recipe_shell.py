#!/usr/bin/env python3
"""The shell parts of a CI recipe, as one bash script on stdout, for
tests/e2e/ci_recipes.sh: a GitHub Actions workflow's env and `run:` steps
(`uses:` steps are GitHub's own actions: checkout is the test's workspace),
or a GitLab CI file's variables and each job's `script:`, in stage order.
Usage: ci_recipe_shell.py github|gitlab FILE [KEY=VALUE...]
KEY=VALUE replaces the recipe's own env/variables entry KEY (which must
exist); ${{ expr }} in GitHub values comes from the JSON object in
$CI_RECIPE_CONTEXT (an expression it lacks is an error)."""
import json
import os
import re
import shlex
import sys

import yaml


def main():
    kind, path, *pairs = sys.argv[1:]
    overrides = dict(p.split("=", 1) for p in pairs)
    context = json.loads(os.environ.get("CI_RECIPE_CONTEXT", "{}"))
    doc = yaml.safe_load(open(path))

    def expr(value):
        return re.sub(r"\$\{\{\s*([\w.]+)\s*\}\}", lambda m: context[m.group(1)], str(value))

    out = ["set -euo pipefail"]
    used = set()

    def export(variables, substitute):
        for key, value in (variables or {}).items():
            if key in overrides:
                used.add(key)
                value = overrides[key]
            out.append(f"export {key}={shlex.quote(substitute(value))}")

    if kind == "github":
        export(doc.get("env"), expr)
        for job in doc["jobs"].values():
            for step in job["steps"]:
                if "run" in step:
                    out.append(f"# {step.get('name', 'run')}")
                    out.append("(")
                    export(step.get("env"), expr)
                    out.append(step["run"])
                    out.append(")")
    elif kind == "gitlab":
        export(doc.get("variables"), str)
        reserved = {"variables", "stages", "default", "include", "workflow"}
        jobs = {k: v for k, v in doc.items() if k not in reserved and isinstance(v, dict) and "script" in v}
        for stage in doc.get("stages", ["build", "test", "deploy"]):
            for name, job in jobs.items():
                if job.get("stage", "test") != stage:
                    continue
                out.append(f"# job {name}")
                out.append("(")
                export(job.get("variables"), str)
                out.extend(job["script"])
                out.append(")")
    else:
        sys.exit(f"unknown recipe kind {kind}")
    unused = set(overrides) - used
    if unused:
        sys.exit(f"{path} has no variable {', '.join(sorted(unused))} to replace")
    print("\n".join(out))


main()
