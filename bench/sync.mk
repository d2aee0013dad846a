# B4 + B5 — trailer library sync (10k movies + 2k series from the fake Radarr/Sonarr) and the
# disk scan of those folders, against the release server binary
# (crates/tapearr/tests/trailers_bench.rs). Included from the root Makefile.
B4_MOVIES ?= 10000
B4_SERIES ?= 2000

.PHONY: bench-sync
bench-sync:
	B4_MOVIES=$(B4_MOVIES) B4_SERIES=$(B4_SERIES) cargo nextest run --cargo-profile release \
	  -p tapearr --test trailers_bench --run-ignored only --no-capture -E 'test(bench_sync_and_scan)'
