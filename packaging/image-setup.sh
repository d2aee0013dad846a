#!/bin/sh
# Builds the run-time image's filesystem, one step at a time. The Dockerfile runs these steps;
# packaging/test-rootfs.sh runs the same ones in a Debian root made with debootstrap, since
# containers cannot run where Tapearr is developed and tested.
#
#   image-setup.sh system   Debian packages and the folders (before the binary is copied in)
#   image-setup.sh tools    the tools virtualenv the image falls back to (needs the binary and PyPI)
set -eu

# Where the image keeps its own copy of the tools; /config/tools/venv wins once it exists.
IMAGE_DATA=/opt/tapearr

case "${1:-}" in
system)
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # tini: PID 1 that forwards SIGTERM and reaps orphans; curl: the health check;
  # tzdata: TZ names for ffmpeg and the tools.
  apt-get install -y -qq --no-install-recommends \
    ca-certificates curl ffmpeg python3 python3-venv tini tzdata >/dev/null
  apt-get clean
  rm -rf /var/lib/apt/lists/*
  mkdir -p /config /media "$IMAGE_DATA"
  ;;
tools)
  # The pins live in the binary: its own installer prepares the venv (with its pin marker, so
  # `tools install` in the container is a no-op while the pins match). PIP_* and proxy
  # variables of the build pass through (a mirror, a proxy's CA).
  HOME=/tmp PIP_NO_CACHE_DIR=1 tapearr --data-dir "$IMAGE_DATA" tools install
  # Only the venv is the image's; whatever else the run left (logs) is not.
  find "$IMAGE_DATA" -mindepth 1 -maxdepth 1 ! -name tools -exec rm -rf {} +
  chmod -R a+rX "$IMAGE_DATA"
  "$IMAGE_DATA/tools/venv/bin/yt-dlp" --version >/dev/null
  # yt-dlp must find the venv's Deno (its JavaScript runtime for YouTube) and the EJS solver.
  "$IMAGE_DATA/tools/venv/bin/deno" --version >/dev/null
  "$IMAGE_DATA/tools/venv/bin/yt-dlp" --ignore-config -v \
    --js-runtimes "deno:$IMAGE_DATA/tools/venv/bin/deno" 2>&1 | grep -q 'JS runtimes: deno-' || {
    echo "yt-dlp does not see the venv's Deno" >&2
    exit 1
  }
  ;;
*)
  echo "usage: $0 system|tools" >&2
  exit 2
  ;;
esac
