#!/bin/sh
# The image's HEALTHCHECK: /readyz on the port and base path the server was started with.
listen="${TAPEARR_LISTEN:-0.0.0.0:7070}"
exec curl -fsS -o /dev/null --max-time 5 "http://127.0.0.1:${listen##*:}${TAPEARR_BASE_PATH:-}/readyz"
