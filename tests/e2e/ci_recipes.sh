#!/usr/bin/env bash
# The CI recipes under scripts/ci/ (README, "CI recipes"): the shell parts
# of the GitHub Actions workflow and of the GitLab CI jobs
# (tests/support/ci_recipe_shell.py takes them out of the YAML), and
# scripts/ci/slim.sh, each run here as its CI would run it: a Go program
# using net and os/user (cgo: it needs libc) built "in golang", then dslim's
# own image (build/release/dslim.oci.tar) run by `docker run` on it, pushing
# to a registry that wants a login (--dest-creds). The pushed image runs.
#
# What cannot run here is said so: GitHub and GitLab themselves (their
# `uses:`, `image:` and `services:` keys), Docker (tests/support/docker-shim
# runs `docker run` under runc, pulling from the local registry), and the
# golang image (its stand-in is this machine's Go and gcc for the build,
# and the fixture root of this machine's loader and libc as the image
# dslim reads the libraries from, both under the golang image's name).
#
# ctest label "release": it needs scripts/release's image.
source "$(dirname "$0")/../support/e2e.sh"
SRC_DIR=${DSLIM_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
IMG=$SRC_DIR/build/release/dslim.oci.tar
need_release "$IMG"
: "${DSLIM_FIXTURE_DIR:?DSLIM_FIXTURE_DIR must point at the built fixtures}"
need go gcc umoci runc skopeo jq docker-registry htpasswd python3
python3 -c 'import yaml' 2>/dev/null || fail "python3-yaml is missing (scripts/bootstrap installs it)"

# R1: the images a CI job pulls (dslim's, and golang's stand-in).
start_registry
R1=$REGISTRY
skopeo_ copy -q --dest-tls-verify=false "oci-archive:$IMG" "docker://$R1/tools/dslim:0.1.0" ||
  fail "cannot push $IMG"
L=$TMP/layout
fixture_layout "$L"
GO_IMAGE=$R1/library/golang:1.22-bookworm
skopeo_ copy -q --dest-tls-verify=false "oci:$L:v1" "docker://$GO_IMAGE" || fail "cannot push the golang stand-in"
# R2: where the job pushes, with a login, as ghcr.io or a GitLab project's registry.
htpasswd -Bbn ci-user ci-token >"$TMP/htpasswd"
start_registry --htpasswd "$TMP/htpasswd"
R2=$REGISTRY

mkdir -p "$TMP/bin" "$TMP/shim"
ln -s "$SRC_DIR/tests/support/docker-shim" "$TMP/bin/docker"
export PATH=$TMP/bin:$PATH DOCKER_SHIM_DIR=$TMP/shim DOCKER_SHIM_POLICY=$E2E_POLICY DOCKER_SHIM_HOST_IMAGES=$GO_IMAGE
export GOCACHE=$TMP/gocache GOPATH=$TMP/gopath GOFLAGS=-mod=mod CGO_ENABLED=1

# workspace DIR: a checkout of the Go program.
workspace() {
  mkdir -p "$1" && chmod 0755 "$1"
  printf 'module example.com/app\n\ngo 1.19\n' >"$1/go.mod"
  cat >"$1/main.go" <<'GO'
package main

import (
	"fmt"
	"net"
	"os/user"
)

func main() {
	_, _ = net.LookupHost("localhost")
	_, _ = user.Current()
	fmt.Println("hello from go")
}
GO
}

# pushed REF: the image the recipe pushed has libc from the golang image and runs.
pushed() {
  local ref=$1 out=$TMP/pulled-$RANDOM
  skopeo_ copy -q --src-tls-verify=false --src-creds ci-user:ci-token "docker://$ref" "oci:$out:app" ||
    fail "nothing at $ref"
  "$DSLIM" inspect "oci:$out:app" --format json | jq -r '.files[].path' >"$TMP/pushed-files"
  grep -qxF /lib/x86_64-linux-gnu/libc.so.6 "$TMP/pushed-files" ||
    fail "$ref has no libc: $(tr '\n' ' ' <"$TMP/pushed-files")"
  expect_runs "$out:app" "hello from go"
}

# --- GitHub Actions ---
W=$TMP/github
workspace "$W"
CI_RECIPE_CONTEXT='{"github.repository": "team/app", "secrets.GITHUB_TOKEN": "ci-token"}' \
  python3 "$SRC_DIR/tests/support/ci_recipe_shell.py" github "$SRC_DIR/scripts/ci/github-actions.yml" \
  GO_IMAGE="$GO_IMAGE" DSLIM_IMAGE="$R1/tools/dslim:0.1.0" IMAGE="$R2/team/app" >"$TMP/github.sh" ||
  fail "cannot read the GitHub workflow"
(cd "$W" && GITHUB_ACTOR=ci-user GITHUB_SHA=0123abcd bash "$TMP/github.sh") >"$TMP/github.out" 2>&1 ||
  fail "the GitHub workflow's steps failed: $(tail -20 "$TMP/github.out")"
pushed "$R2/team/app:0123abcd"
echo "ok: GitHub Actions steps"

# --- GitLab CI: the build job's script in its image (golang's stand-in:
# this machine), the slim job's through docker ---
W=$TMP/gitlab
workspace "$W"
python3 "$SRC_DIR/tests/support/ci_recipe_shell.py" gitlab "$SRC_DIR/scripts/ci/gitlab-ci.yml" \
  GO_IMAGE="$GO_IMAGE" DSLIM_IMAGE="$R1/tools/dslim:0.1.0" >"$TMP/gitlab.sh" ||
  fail "cannot read the GitLab CI file"
(cd "$W" && CI_PROJECT_DIR=$W CI_REGISTRY=$R2 CI_REGISTRY_IMAGE=$R2/team/app CI_REGISTRY_USER=ci-user \
  CI_REGISTRY_PASSWORD=ci-token CI_COMMIT_SHORT_SHA=4567ef bash "$TMP/gitlab.sh") >"$TMP/gitlab.out" 2>&1 ||
  fail "the GitLab jobs' scripts failed: $(tail -20 "$TMP/gitlab.out")"
pushed "$R2/team/app:4567ef"
echo "ok: GitLab CI jobs' scripts"

# --- plain shell: scripts/ci/slim.sh ---
W=$TMP/shell
workspace "$W"
(cd "$W" && IMAGE=$R2/team/app:1.4 REGISTRY_USER=ci-user REGISTRY_PASSWORD=ci-token GO_IMAGE=$GO_IMAGE \
  DSLIM_IMAGE=$R1/tools/dslim:0.1.0 "$SRC_DIR/scripts/ci/slim.sh") >"$TMP/shell.out" 2>&1 ||
  fail "scripts/ci/slim.sh failed: $(tail -20 "$TMP/shell.out")"
pushed "$R2/team/app:1.4"
# Without the login, the push is refused: the credentials did the work.
rc=0
(cd "$W" && IMAGE=$R2/team/app:nologin GO_IMAGE=$GO_IMAGE DSLIM_IMAGE=$R1/tools/dslim:0.1.0 \
  "$SRC_DIR/scripts/ci/slim.sh") >"$TMP/nologin.out" 2>&1 || rc=$?
((rc == 4)) || fail "slim.sh without REGISTRY_USER: exit $rc, want dslim's 4: $(tail -5 "$TMP/nologin.out")"
echo "ok: scripts/ci/slim.sh"
echo "ci_recipes: ok"
