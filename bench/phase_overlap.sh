#!/usr/bin/env bash
# Phases 2 and 3 at the same time (issue 11, item 4): the same report against the loopback
# Bedrock fake (real AWS SDK) streaming at a realistic pace — 0.8 s to the first token, then 60
# output tokens a second — with the phases one after the other and side by side, RUNS times each
# (default 5). Prints every run, then the medians and the concurrent wall time over the slower
# phase (the goal: at most 1.1).
#
#   bench/phase_overlap.sh            # 5 runs of each mode, about 5 minutes
#   RUNS=3 bench/phase_overlap.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_RUNS=${RUNS:-5} cargo test --locked -p agent --test workflow -- \
  --ignored --exact bench_phase_overlap --nocapture --test-threads 1 2>&1 |
  grep -E '^(scripted|run |median| +[0-9]+ )'
