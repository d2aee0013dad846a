# B1 — concurrent recordings vs streamlink (see bench/record/run.py).
# BENCH_MODE=standalone: `tapearr-hls-record --multi`, then streamlink, one after the other.
# BENCH_MODE=server: one `tapearr serve` on the fake Twitch beside streamlink in the same run.
# Included from the root Makefile.
BENCH_SECONDS ?= 60
BENCH_COUNTS ?= 1,10,100,200
BENCH_MODE ?= standalone
BENCH_LABEL ?=
TAPEARR_STREAMLINK ?= $(CURDIR)/data/tools/venv/bin/streamlink

.PHONY: bench-record
bench-record:
	cargo build --release -p tapearr -p tapearr-hls -p tapearr-testkit
	@test -x "$(TAPEARR_STREAMLINK)" || (python3 -m venv data/tools/venv && data/tools/venv/bin/pip install -q streamlink)
	python3 bench/record/run.py --mode $(BENCH_MODE) --seconds $(BENCH_SECONDS) --counts $(BENCH_COUNTS) \
		--streamlink "$(TAPEARR_STREAMLINK)" --label "$(BENCH_LABEL)"
