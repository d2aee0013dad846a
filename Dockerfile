# syntax=docker/dockerfile:1
# Tapearr's container image: the release binary with the web app embedded, ffmpeg, and the
# tools virtualenv (yt-dlp, streamlink, apprise). Build: `docker build -t tapearr .`
# What runs at build and start time lives in packaging/ (image-setup.sh, entrypoint.sh,
# healthcheck.sh): packaging/test-rootfs.sh runs the same scripts in a Debian root filesystem.
# See docs/install.md.

# ---- the web app (static files, embedded by the binary) ----
FROM --platform=$BUILDPLATFORM node:22-bookworm-slim AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
# npm ci refuses this lock on some npm/registry set-ups; install --no-save keeps the lock's versions.
RUN npm ci --no-audit --no-fund || npm install --no-audit --no-fund --no-save
COPY web/ ./
RUN npx vite build --logLevel warn

# ---- the release binary (built natively per platform: the workflow uses amd64 and arm64 runners) ----
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
COPY --from=web /src/web/build web/build
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked -p tapearr \
    && install -m 0755 target/release/tapearr /usr/local/bin/tapearr

# ---- the run-time image ----
FROM debian:bookworm-slim
COPY packaging/image-setup.sh /usr/local/lib/tapearr/image-setup.sh
RUN /usr/local/lib/tapearr/image-setup.sh system
COPY --from=build /usr/local/bin/tapearr /usr/local/bin/tapearr
RUN /usr/local/lib/tapearr/image-setup.sh tools
COPY packaging/entrypoint.sh /usr/local/bin/tapearr-entrypoint
COPY packaging/healthcheck.sh /usr/local/bin/tapearr-healthcheck

# The user the server runs as (files in /config are theirs), the mode of new files, the time zone.
ENV PUID=1000 PGID=1000 UMASK=022 TZ=Etc/UTC \
    TAPEARR_DATA_DIR=/config TAPEARR_TOOLS__FALLBACK_VENV=/opt/tapearr/tools/venv
# /config: database, logs, secret.key, the tools venv after an update. /media: library roots.
VOLUME ["/config", "/media"]
EXPOSE 7070
# tini forwards it to the server, which stops within 10 s (Docker's default stop timeout).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 CMD ["tapearr-healthcheck"]
ENTRYPOINT ["/usr/bin/tini", "--", "tapearr-entrypoint"]
CMD ["serve"]

LABEL org.opencontainers.image.title="Tapearr" \
      org.opencontainers.image.description="Twitch recorder and trailer downloader for Plex, Jellyfin and Emby libraries" \
      org.opencontainers.image.licenses="AGPL-3.0-or-later"
