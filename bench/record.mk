# B1 — concurrent recordings, native vs streamlink (see bench/record/run.py).
# Included from the root Makefile.
BENCH_SECONDS ?= 60
BENCH_COUNTS ?= 1,10,100,200
TAPEARR_STREAMLINK ?= $(CURDIR)/data/tools/venv/bin/streamlink

.PHONY: bench-record
bench-record:
	cargo build --release -p tapearr-hls -p tapearr-testkit
	@test -x "$(TAPEARR_STREAMLINK)" || (python3 -m venv data/tools/venv && data/tools/venv/bin/pip install -q streamlink)
	python3 bench/record/run.py --seconds $(BENCH_SECONDS) --counts $(BENCH_COUNTS) --streamlink "$(TAPEARR_STREAMLINK)"
