# B8 — a past broadcast (VOD) downloaded from a local CDN-like origin: 6 segments at a time and
# 1 at a time in the same run, then a download stopped halfway and resumed
# (crates/hls/tests/vod_bench.rs, bench_vod_download). Included from the root Makefile.
B8_MINUTES ?= 60
B8_LATENCY_MS ?= 30-80

.PHONY: bench-vod
bench-vod:
	B8_MINUTES=$(B8_MINUTES) B8_LATENCY_MS=$(B8_LATENCY_MS) cargo nextest run --cargo-profile release \
	  -p tapearr-hls --test vod_bench --run-ignored only --no-capture -E 'test(bench_vod_download)'
