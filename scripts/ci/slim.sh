#!/bin/sh
# Any runner with docker or podman: build the Go app in the current
# directory in golang, slim it with dslim's image, push the slim image.
#   IMAGE=registry.example.com/team/app:1.4 REGISTRY_USER=... REGISTRY_PASSWORD=... scripts/ci/slim.sh
# IMAGE          where to push (required)
# REGISTRY_USER, REGISTRY_PASSWORD   credentials for IMAGE's registry (optional)
# GO_IMAGE       the build image, also where the libraries come from
#                (default golang:1.22-bookworm)
# DSLIM_IMAGE    dslim's image (build/release/dslim.oci.tar of a release,
#                pushed where this runner can pull it)
# DOCKER         docker or podman (default: whichever is installed)
set -eu
: "${IMAGE:?IMAGE: where to push the slim image, e.g. registry.example.com/team/app:1.4}"
: "${DSLIM_IMAGE:?DSLIM_IMAGE: the dslim image to run, e.g. registry.example.com/tools/dslim:0.1.0}"
GO_IMAGE=${GO_IMAGE:-golang:1.22-bookworm}
DOCKER=${DOCKER:-$(command -v docker || command -v podman || echo docker)}

"$DOCKER" run --rm -v "$PWD:/src" -w /src "$GO_IMAGE" go build -buildvcs=false -o app .

set -- binary ./app --from "docker://$GO_IMAGE" -o "docker://$IMAGE"
if [ -n "${REGISTRY_USER:-}" ]; then
  set -- "$@" --dest-creds "$REGISTRY_USER:${REGISTRY_PASSWORD:-}"
fi
"$DOCKER" run --rm -v "$PWD:/work:ro" -w /work "$DSLIM_IMAGE" "$@"
