#!/usr/bin/env bash
# B6 (part): time from exec to /readyz 200 and idle RSS of `tapearr serve`, median of 7 runs,
# written to the "B6 — start-up and idle memory" section of docs/benchmarks.md.
set -euo pipefail
bin=${1:-target/release/tapearr}
runs=${RUNS:-7}
port=${PORT:-17171}
out=docs/benchmarks.md
ready_ms=() rss_kb=()

for i in $(seq 1 "$runs"); do
  dir=$(mktemp -d)
  # A migrated database, as a real restart finds it.
  TAPEARR_LOG__FILE=false "$bin" --data-dir "$dir" migrate >/dev/null 2>&1
  start=$(date +%s%N)
  TAPEARR_LISTEN=127.0.0.1:$port TAPEARR_LOG__FILE=false "$bin" --data-dir "$dir" serve >/dev/null 2>&1 &
  pid=$!
  until curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null; do sleep 0.002; done
  end=$(date +%s%N)
  ready_ms+=( $(( (end - start) / 1000000 )) )
  sleep 3 # let start-up allocations settle before reading idle memory
  rss_kb+=( $(awk '/VmRSS/ {print $2}' /proc/$pid/status) )
  kill -TERM $pid; wait $pid || true
  rm -rf "$dir"
done

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
m_ready=$(median "${ready_ms[@]}")
m_rss=$(( $(median "${rss_kb[@]}") / 1024 ))
machine="$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"

section=$(cat <<MD
## B6 — start-up and idle memory

Command: \`make bench-startup\` (bench/startup.sh; median of $runs runs, SQLite, migrated database).
Machine: $machine. Measured $(date -u +%Y-%m-%d).

| figure | measured | target |
|---|---|---|
| exec → \`/readyz\` 200 | ${m_ready} ms | < 300 ms |
| idle RSS of \`serve\` | ${m_rss} MiB | < 40 MiB |

Runs (ms to ready): ${ready_ms[*]}; RSS (KiB): ${rss_kb[*]}.
MD
)
mkdir -p docs
[ -f "$out" ] || printf '# Benchmarks\n\nEach section is written by the command it names. Figures that compare programs are ratios measured side by side in one run.\n' > "$out"
python3 - "$out" "$section" <<'PY'
import re, sys
path, section = sys.argv[1], sys.argv[2]
text = open(path).read()
pattern = re.compile(r"^## B6 — start-up and idle memory\n.*?(?=^## |\Z)", re.S | re.M)
text = pattern.sub(section.rstrip() + "\n\n", text) if pattern.search(text) else text.rstrip() + "\n\n" + section.rstrip() + "\n"
open(path, "w").write(text)
PY
echo "$section"
