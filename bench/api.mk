# B6 — the list endpoints under load: 10k movies synced, 10k finished + 20 live recordings,
# an open-loop constant rate per endpoint from a Rust load generator against the release server
# (crates/tapearr/tests/api_bench.rs). Writes the "B6 — API under load" section of
# docs/benchmarks.md. Included from the root Makefile.
# B6_BEFORE_BIN=path/to/an/older/tapearr adds "before" columns measured in the same run.
B6_RATE ?= 500
B6_SECONDS ?= 5
B6_MOVIES ?= 10000
B6_RECORDINGS ?= 10000
B6_LIVE ?= 20
B6_BEFORE_BIN ?=
B6_BEFORE_LABEL ?= $(B6_BEFORE_BIN)

.PHONY: bench-api
bench-api:
	B6_RATE=$(B6_RATE) B6_SECONDS=$(B6_SECONDS) B6_MOVIES=$(B6_MOVIES) B6_RECORDINGS=$(B6_RECORDINGS) \
	  B6_LIVE=$(B6_LIVE) B6_BEFORE_BIN="$(B6_BEFORE_BIN)" B6_BEFORE_LABEL="$(B6_BEFORE_LABEL)" B6_WRITE_DOCS=1 \
	  cargo nextest run --cargo-profile release -p tapearr --test api_bench --run-ignored only --no-capture \
	  -E 'test(bench_list_endpoints_under_load)'
