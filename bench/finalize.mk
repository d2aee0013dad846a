# B3 — end of stream → playable MP4: a one-hour TS recording finalized
# (crates/tapearr/tests/library.rs, bench_finalize_one_hour_recording). Included from the root Makefile.
B3_MINUTES ?= 60

.PHONY: bench-finalize
bench-finalize:
	B3_MINUTES=$(B3_MINUTES) cargo nextest run -p tapearr --test library \
	  --run-ignored only --no-capture -E 'test(bench_finalize_one_hour_recording)'
