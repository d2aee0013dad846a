#!/usr/bin/env bash
# `make release`: one archive per target in dist/, with the binary (web app embedded when
# web/build exists), README, LICENSE, the install and configuration guides, the systemd unit
# and an example config, plus a SHA-256 file.
#
#   packaging/release.sh VERSION TARGET...
#
# The host's target reuses target/release; another (aarch64-unknown-linux-gnu) is built with
# `cargo build --target`, which needs `rustup target add` and that target's C linker.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$1
shift
host=$(rustc -vV | sed -n 's/^host: //p')
[ -f web/build/index.html ] || echo "warning: web/build is missing: the archives serve no web app (make web)" >&2
mkdir -p dist
for target in "$@"; do
  if [ "$target" = "$host" ]; then
    cargo build --release --locked -p tapearr
    bin=target/release/tapearr
  else
    cargo build --release --locked -p tapearr --target "$target"
    bin=target/$target/release/tapearr
  fi
  name=tapearr-$version-$target
  stage=dist/$name
  rm -rf "$stage"
  mkdir -p "$stage"
  install -m 0755 "$bin" "$stage/tapearr"
  install -m 0644 README.md LICENSE docs/install.md docs/configuration.md \
    packaging/tapearr.service packaging/tapearr.example.toml "$stage/"
  tar -C dist --owner=0 --group=0 -czf "dist/$name.tar.gz" "$name"
  rm -rf "$stage"
  (cd dist && sha256sum "$name.tar.gz" >"$name.tar.gz.sha256")
  echo "dist/$name.tar.gz"
done
