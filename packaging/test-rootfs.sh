#!/usr/bin/env bash
# Runs the container image's set-up and start scripts in a Debian root filesystem, under
# unshare + chroot, because containers cannot run where Tapearr is developed and tested.
#
# The root is built like the Dockerfile's run-time stage: Debian bookworm (debootstrap,
# minbase), `image-setup.sh system`, the binary at /usr/local/bin/tapearr, `image-setup.sh
# tools`, the entrypoint and health check. The server then starts as PID 1's child of tini in
# its own PID namespace (as in a container) with a private network, and the script checks:
# PUID/PGID own what it writes in /config, UMASK, /readyz and the health check, the setup
# token beyond loopback, the tools run as that user, /media is not chowned, SIGTERM stops it
# within Docker's stop timeout, and a restart with another PUID/PGID keeps the data.
#
#   packaging/test-rootfs.sh [BINARY]        (default: target/release/tapearr)
#
# Needs root, debootstrap, util-linux's unshare, and the Debian mirror and PyPI for the first
# run. The prepared roots are cached in $TAPEARR_ROOTFS_CACHE (default ~/.cache/tapearr-rootfs),
# keyed by the set-up script and the tool pins; later runs take seconds. Skips (exit 0, with a
# message) where root, debootstrap or namespaces are missing.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
suite=bookworm
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache=${TAPEARR_ROOTFS_CACHE:-${HOME:-/root}/.cache/tapearr-rootfs}
# Docker's default `docker stop` timeout.
stop_timeout=10

say() { echo "== $*"; }
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
skip() {
  echo "SKIPPED: $*"
  exit 0
}

# ---- the prepared root: base → system → tools, each layer cached --------------------------

# Runs a set-up step in the root with /proc, /dev and the host's DNS, in a private mount
# namespace so nothing stays mounted. pip trusts the host's CA bundle (mounted for the step
# only), so a TLS-intercepting proxy in front of PyPI works, as a build argument would.
in_root() {
  local root=$1
  shift
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  local ca=/etc/ssl/certs/ca-certificates.crt
  # shellcheck disable=SC2016 # expanded by the inner bash
  unshare --mount --fork bash -c '
    set -e; root=$1 ca=$2; shift 2
    mount --make-rprivate /
    mount -t proc proc "$root/proc"
    mount --rbind /dev "$root/dev"
    pip_cert=()
    if [ -f "$ca" ]; then
      touch "$root/run/host-ca.crt"
      mount --bind "$ca" "$root/run/host-ca.crt"
      pip_cert=(PIP_CERT=/run/host-ca.crt)
    fi
    exec chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      HOME=/root "${pip_cert[@]}" "$@"
  ' in_root "$root" "$ca" "$@"
  rm -f "$root/run/host-ca.crt"
}

# Makes "$cache/$1" with "$2 …" unless it is there (built beside it, renamed when complete).
layer() {
  local dir=$cache/$1 build=$cache/$1.tmp
  shift
  [ -d "$dir" ] && return 0
  rm -rf "$build"
  "$@" "$build"
  mv "$build" "$dir"
}

make_base() { debootstrap --variant=minbase "$suite" "$1" "$mirror" >"$cache/debootstrap.log"; }

make_system() {
  cp -a "$cache/base-$suite" "$1"
  install -D -m 0755 "$repo/packaging/image-setup.sh" "$1/usr/local/lib/tapearr/image-setup.sh"
  in_root "$1" /usr/local/lib/tapearr/image-setup.sh system
}

make_tools() {
  cp -a "$cache/$system_layer" "$1"
  install -m 0755 "$bin" "$1/usr/local/bin/tapearr"
  in_root "$1" /usr/local/lib/tapearr/image-setup.sh tools
  rm "$1/usr/local/bin/tapearr" # each run copies in the binary under test
}

prepare() {
  [ "$(id -u)" = 0 ] || skip "needs root (debootstrap, chroot, unshare)"
  local tool
  for tool in debootstrap unshare chroot setpriv curl ip; do
    command -v "$tool" >/dev/null || skip "$tool not found (apt-get install debootstrap util-linux curl iproute2)"
  done
  unshare --mount --pid --net --fork true 2>/dev/null || skip "unshare refused (no namespaces here)"
  [ -x "$bin" ] || fail "no binary at $bin (cargo build --release -p tapearr)"
  mkdir -p "$cache"
  system_layer=system-$(sha256sum <"$repo/packaging/image-setup.sh" | cut -c1-12)
  tools_layer=tools-$(cat "$repo/packaging/image-setup.sh" "$repo/crates/core/src/tools/pins.rs" |
    sha256sum | cut -c1-12)
  say "root: debootstrap $suite (cached in $cache)"
  layer "base-$suite" make_base
  say "root: image-setup.sh system"
  layer "$system_layer" make_system
  say "root: image-setup.sh tools"
  layer "$tools_layer" make_tools
}

# ---- inside a private mount + network namespace -------------------------------------------

# The run's root: the tools layer under an overlay, plus what the Dockerfile copies last.
mount_run_root() {
  mkdir -p "$work/upper" "$work/work" "$root"
  mount -t overlay overlay -o "lowerdir=$cache/$tools_layer,upperdir=$work/upper,workdir=$work/work" "$root"
  install -m 0755 "$bin" "$root/usr/local/bin/tapearr"
  install -m 0755 "$repo/packaging/entrypoint.sh" "$root/usr/local/bin/tapearr-entrypoint"
  install -m 0755 "$repo/packaging/healthcheck.sh" "$root/usr/local/bin/tapearr-healthcheck"
  mount --rbind /dev "$root/dev"
  mount -t proc proc "$root/proc"
}

# `docker run`: a fresh PID namespace with tini as PID 1, a clean environment plus "$@".
start() {
  local log=$1
  shift
  unshare --pid --fork --mount-proc --root="$root" \
    /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOSTNAME=tapearr HOME=/root TZ=Europe/Berlin "$@" \
    /usr/bin/tini -- tapearr-entrypoint serve >"$log" 2>&1 &
  container=$!
}

child_of() { awk '{print $1}' "/proc/$1/task/$1/children" 2>/dev/null; }

wait_ready() {
  local _
  for _ in $(seq 1 120); do
    curl -fsS -o /dev/null --max-time 2 http://127.0.0.1:7070/readyz 2>/dev/null && return 0
    kill -0 "$container" 2>/dev/null || {
      cat "$1"
      fail "the server exited before /readyz answered"
    }
    sleep 0.5
  done
  cat "$1"
  fail "/readyz did not answer within 60 s"
}

# `docker stop`: SIGTERM to PID 1 (tini, which forwards it), then wait up to the stop timeout.
stop() {
  local tini started waited=0 rc=0
  tini=$(child_of "$container")
  started=$(date +%s%N)
  kill -TERM "$tini"
  while kill -0 "$container" 2>/dev/null; do
    [ "$waited" -lt $((stop_timeout * 10)) ] || {
      kill -KILL "$tini"
      fail "still running ${stop_timeout} s after SIGTERM"
    }
    sleep 0.1
    waited=$((waited + 1))
  done
  wait "$container" || rc=$?
  [ "$rc" = 0 ] || {
    cat "$1"
    fail "exit status $rc after SIGTERM"
  }
  say "SIGTERM: stopped in $((($(date +%s%N) - started) / 1000000)) ms, exit 0"
}

# Everything under /config belongs to uid:gid.
check_owner() {
  local strays
  strays=$(find "$root/config" \( ! -uid "$1" -o ! -gid "$2" \) -printf '%u:%g %p\n' | head)
  [ -z "$strays" ] || fail "not owned by $1:$2 in /config: $strays"
  say "/config: every file owned by $1:$2 ($(find "$root/config" | wc -l) entries)"
}

# The server process (tini's child, after the entrypoint's exec) runs as uid:gid.
check_process() {
  local server uid gid
  server=$(child_of "$(child_of "$container")")
  uid=$(awk '/^Uid:/ {print $2}' "/proc/$server/status")
  gid=$(awk '/^Gid:/ {print $2}' "/proc/$server/status")
  [ "$(cat "/proc/$server/comm")" = tapearr ] || fail "tini's child is $(cat "/proc/$server/comm"), not tapearr"
  [ "$uid:$gid" = "$1:$2" ] || fail "the server runs as $uid:$gid, not $1:$2"
  say "server process runs as $uid:$gid"
}

# Files the server created follow UMASK (a log file, its folder).
check_umask() {
  local mask=$1 file
  file=$(find "$root/config/logs" -type f | head -n1)
  [ -n "$file" ] || fail "no log file in /config/logs"
  for f in "$root/config/logs" "$file"; do
    local mode
    mode=$(stat -c %a "$f")
    [ $((8#$mode & 8#$mask)) = 0 ] || fail "$f has mode $mode despite UMASK=$mask"
  done
  say "UMASK $mask: logs/ $(stat -c %a "$root/config/logs"), $(basename "$file") $(stat -c %a "$file")"
}

check_media_untouched() {
  local owners
  owners=$(find "$root/media" -printf '%u:%g\n' | sort -u | tr '\n' ' ')
  [ "$owners" = "4242:4242 " ] || fail "/media changed owner: $owners"
  grep -q "warning: /media is not writable by uid $2" "$1" || fail "no warning that /media is not writable"
  say "/media: left as it was (4242:4242), with a warning that uid $2 cannot write there"
}

# The tools as the user: doctor (through the entrypoint, as `docker exec` would) and yt-dlp.
check_tools() {
  local out
  out=$(chroot "$root" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin PUID="$1" PGID="$2" \
    tapearr-entrypoint doctor 2>&1) || {
    echo "$out"
    fail "doctor failed"
  }
  echo "$out" | grep -q "yt-dlp.*/opt/tapearr/tools/venv" || {
    echo "$out"
    fail "doctor does not list yt-dlp from the image's venv"
  }
  out=$(chroot "$root" setpriv --reuid="$1" --regid="$2" --clear-groups -- \
    /usr/bin/env -i HOME=/config /opt/tapearr/tools/venv/bin/yt-dlp --version)
  say "tools as $1:$2: doctor ok, yt-dlp $out"
}

check_health() {
  chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin /usr/local/bin/tapearr-healthcheck ||
    fail "the health check failed"
  say "/readyz answers; the health check passes"
}

api() { curl -sS -o /dev/null -w '%{http_code}' -H 'content-type: application/json' "$@"; }

inside() {
  mount --make-rprivate /
  ip link set lo up
  root=$work/root
  mount_run_root
  # A library share whose owner the entrypoint must not change (NFS/SMB refuse chown).
  mkdir -p "$root/media/tv/Show"
  touch "$root/media/tv/Show/episode.mkv"
  chown -R 4242:4242 "$root/media"

  say "start 1: PUID=1000 PGID=1000 UMASK=027, empty /config"
  start "$work/run1.log" PUID=1000 PGID=1000 UMASK=027
  wait_ready "$work/run1.log"
  check_health
  check_process 1000 1000
  local token
  token=$(sed -n 's/.*create it with the setup token \([^ ]*\).*/\1/p' "$work/run1.log" | tail -n1)
  [ -n "$token" ] || fail "no setup token in the log (listening on 0.0.0.0)"
  local body='"username":"admin","password":"a long password"'
  [ "$(api -X POST http://127.0.0.1:7070/api/v1/setup -d "{$body}")" = 403 ] ||
    fail "setup without the token was not refused"
  [ "$(api -X POST http://127.0.0.1:7070/api/v1/setup -d "{$body,\"setup_token\":\"$token\"}")" = 201 ] ||
    fail "setup with the logged token failed"
  say "setup token: printed in the log, required, accepted"
  check_tools 1000 1000
  check_umask 027
  stop "$work/run1.log"
  check_owner 1000 1000
  check_media_untouched "$work/run1.log" 1000

  say "start 2: PUID=99 PGID=100 UMASK=002, the same /config, a venv there from another Python"
  mkdir -p "$root/config/tools/venv/bin"
  ln -s /usr/bin/python3 "$root/config/tools/venv/bin/python"
  start "$work/run2.log" PUID=99 PGID=100 UMASK=002
  wait_ready "$work/run2.log"
  if ! grep -q "cannot import yt-dlp .*moved to /config/tools/venv.broken-" "$work/run2.log" ||
    [ -e "$root/config/tools/venv" ]; then
    fail "the broken /config/tools/venv was not set aside"
  fi
  say "a /config/tools/venv that cannot import yt-dlp is set aside; the image's tools serve"
  check_process 99 100
  [ "$(api -X POST http://127.0.0.1:7070/api/v1/auth/login -d "{$body}")" = 200 ] ||
    fail "the admin made in start 1 cannot log in"
  say "data kept: the admin from start 1 logs in"
  check_tools 99 100
  check_owner 99 100
  stop "$work/run2.log"
  check_media_untouched "$work/run2.log" 99
  say "all packaging checks passed"
}

case "${1:-}" in
--inside)
  bin=$2 cache=$3 tools_layer=$4 work=$5
  inside
  ;;
*)
  bin=$(realpath "${1:-$repo/target/release/tapearr}" 2>/dev/null || echo "${1:-target/release/tapearr}")
  prepare
  work=$(mktemp -d)
  # The namespaces end with the script inside (--kill-child: nothing it started outlives it),
  # and their mounts with them; only then is the run's folder removed.
  rc=0
  unshare --mount --net --pid --fork --mount-proc --kill-child \
    "$0" --inside "$bin" "$cache" "$tools_layer" "$work" || rc=$?
  [ "$rc" = 0 ] || echo "the run's files (logs, /config): $work" >&2
  [ "$rc" != 0 ] || rm -rf "$work"
  exit "$rc"
  ;;
esac
