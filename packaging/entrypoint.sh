#!/bin/sh
# The container's start: container defaults, UMASK, the switch to PUID/PGID, then `tapearr "$@"`.
# Runs under tini (PID 1), which forwards SIGTERM to the server.
set -eu

log() { echo "tapearr-entrypoint: $*" >&2; }
die() { log "$*"; exit 64; }

# Inside a container: all interfaces, data in /config, the image's tools as fallback. Each can
# be overridden (TAPEARR_LISTEN=0.0.0.0:8080, a tapearr.toml in /config for everything else).
export TAPEARR_DATA_DIR="${TAPEARR_DATA_DIR:-/config}"
export TAPEARR_LISTEN="${TAPEARR_LISTEN:-0.0.0.0:7070}"
export TAPEARR_TOOLS__FALLBACK_VENV="${TAPEARR_TOOLS__FALLBACK_VENV:-/opt/tapearr/tools/venv}"
# Running jobs get this long at shutdown; 8 s fits Docker's default 10 s stop timeout
# (a job cut short is released and runs again at the next start).
export TAPEARR_JOBS__SHUTDOWN_GRACE_SECS="${TAPEARR_JOBS__SHUTDOWN_GRACE_SECS:-8}"
# The user may have no passwd entry: the tools' caches go to the data dir.
export HOME="$TAPEARR_DATA_DIR"
export XDG_CACHE_HOME="$TAPEARR_DATA_DIR/cache"

UMASK="${UMASK:-022}"
case "$UMASK" in
  [0-7][0-7][0-7] | [0-7][0-7][0-7][0-7]) umask "$UMASK" ;;
  *) die "UMASK must be octal like 022 or 002, not '$UMASK'" ;;
esac

data="$TAPEARR_DATA_DIR"
venv="$data/tools/venv"

# A venv left in /config by an image with another Python (an upgrade of the base image) runs,
# but its packages are not found: set it aside so the image's tools serve until the next
# `tools update`. Run as the user ("$@"): root never executes what the user can write.
set_aside_broken_venv() {
  if [ -e "$venv/bin/python" ] && ! "$@" "$venv/bin/python" -c 'import yt_dlp' 2>/dev/null; then
    aside="$venv.broken-$(date +%Y%m%d%H%M%S)"
    log "$venv cannot import yt-dlp (Python changed?); moved to $aside, using the image's tools"
    "$@" mv "$venv" "$aside"
  fi
}

# Library roots are only checked: a recursive chown of /media could take hours, and NFS/SMB
# shares refuse it. Give PUID/PGID write access on the share instead.
check_library_roots() {
  roots="${TAPEARR_LIBRARY_ROOTS:-}"
  [ -n "$roots" ] || { [ -d /media ] && roots=/media; } || return 0
  echo "$roots" | tr ',' '\n' | while read -r root; do
    [ -n "$root" ] || continue
    if ! "$@" test -w "$root" 2>/dev/null; then
      log "warning: $root is not writable by uid $(id_of "$@"): recordings and trailers there will fail"
    fi
  done
}
id_of() { "$@" id -u; }

# The data dir is chowned below as root: never anything but a real folder of its own.
case "$data" in
  / | /media | /media/* | /usr | /usr/* | /etc | /etc/* | /opt | /opt/*)
    die "TAPEARR_DATA_DIR=$data is not a data dir this image may take over (use /config)" ;;
esac

# Only a start of the server repairs /config: `docker exec … tapearr-entrypoint doctor` beside a
# running server must not move its venv or chown under it.
starting=no
[ "${1:-serve}" = serve ] && starting=yes

if [ "$(id -u)" != 0 ]; then
  # Started as a user already (`docker run --user`, rootless set-ups): nothing to switch.
  mkdir -p "$data"
  if [ "$starting" = yes ]; then
    set_aside_broken_venv
    check_library_roots
  fi
  exec tapearr "$@"
fi

PUID="${PUID:-1000}"
PGID="${PGID:-1000}"
case "$PUID$PGID" in
  *[!0-9]* | "") die "PUID and PGID must be numbers (got PUID='$PUID' PGID='$PGID')" ;;
esac
[ "$PUID" != 0 ] || log "warning: PUID=0 runs the server as root"

mkdir -p "$data"
as_user() { setpriv --reuid="$PUID" --regid="$PGID" --clear-groups -- "$@"; }
if [ "$starting" = yes ]; then
  # /config is Tapearr's own: give PUID/PGID whatever they do not own yet (a first start, a
  # changed PUID, a file made by `docker exec` as root). Files already theirs are not touched.
  find "$data" -xdev \( ! -user "$PUID" -o ! -group "$PGID" \) -exec chown -h "$PUID:$PGID" {} + \
    || log "warning: could not give $data to $PUID:$PGID (a share that refuses chown?)"
  set_aside_broken_venv as_user
  check_library_roots as_user
fi
exec setpriv --reuid="$PUID" --regid="$PGID" --clear-groups -- tapearr "$@"
