# B2 — live detection of 1,000 channels by polling, inside Helix's rate limit
# (crates/tapearr/tests/streams.rs, bench_polling_1000_channels_within_rate_limit).
# Included from the root Makefile.
B2_POLL_SECS ?= 30
B2_SECONDS ?= 120

.PHONY: bench-detect
bench-detect:
	B2_POLL_SECS=$(B2_POLL_SECS) B2_SECONDS=$(B2_SECONDS) cargo nextest run -p tapearr --test streams \
	  --run-ignored only --no-capture -E 'test(bench_polling_1000_channels_within_rate_limit)'
