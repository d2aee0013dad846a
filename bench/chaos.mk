# B9 — chaos: channels recording and a trailer run under repeated SIGKILL (recording, finalize,
# yt-dlp/ffmpeg running), a tool killed, an origin vanishing; a full library disk; PostgreSQL
# restarted mid-job (crates/tapearr/tests/chaos.rs). `make test` runs the bounded version (4 kills,
# 3 channels, 6 trailers); this is the long one. CHAOS_SEED replays a run (each run prints its
# seed). PostgreSQL too when TAPEARR_TEST_PG_URL is set. Included from the root Makefile.
CHAOS_KILLS ?= 12
CHAOS_SECONDS ?= 180
CHAOS_CHANNELS ?= 4
CHAOS_MOVIES ?= 12
CHAOS_SEED ?=

.PHONY: chaos
chaos: deps tools
	CHAOS_KILLS=$(CHAOS_KILLS) CHAOS_SECONDS=$(CHAOS_SECONDS) CHAOS_CHANNELS=$(CHAOS_CHANNELS) \
	  CHAOS_MOVIES=$(CHAOS_MOVIES) $(if $(CHAOS_SEED),CHAOS_SEED=$(CHAOS_SEED)) \
	  TAPEARR_TEST_TOOLS_DATA_DIR=$(DATA_DIR) \
	  $(CARGO) nextest run -p tapearr --test chaos --no-fail-fast --no-capture
