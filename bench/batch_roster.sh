#!/usr/bin/env bash
# The 120-athlete batch flow of issue 12 (crates/cli/tests/batch.rs), RUNS times (default 3):
# 120 athletes created through the store, `batch submit` to the fake control plane with moto as
# S3, the job run by the fake (6 injected record errors), `batch collect` (120 reports, one
# on-demand repair) and `batch retry-failed`. Prints each run's line — setup, submit, collect and
# total seconds, and the batch cost next to the on-demand cost of the same answers — then the
# medians. Needs the Python peer (moto): `export CYCLING_AI_PYTHON=$(tests/python/setup.sh)`.
#
#   bench/batch_roster.sh          # 3 runs, about 2 minutes on two cores after the build
#   RUNS=5 bench/batch_roster.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CYCLING_AI_REQUIRE_PYTHON=1
cargo test --locked -p cycling-ai --test batch --no-run 2>/dev/null
lines=()
for _ in $(seq "${RUNS:-3}"); do
  line=$(cargo test --locked -p cycling-ai --test batch -- --nocapture 2>&1 | grep '^batch end to end:')
  echo "$line"
  lines+=("$line")
done
printf '%s\n' "${lines[@]}" | awk '
  { for (i = 1; i <= NF; i++) {
      if ($i == "setup") s[NR] = $(i+1); if ($i == "submit") u[NR] = $(i+1);
      if ($i == "collect") c[NR] = $(i+1); if ($i == "total") t[NR] = $(i+1) } }
  function median(a, n,   k, j, x, tmp) {
    for (k = 1; k <= n; k++) x[k] = a[k]
    for (k = 1; k <= n; k++) for (j = k + 1; j <= n; j++) if (x[j] < x[k]) { tmp = x[k]; x[k] = x[j]; x[j] = tmp }
    return (n % 2) ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2 }
  END { printf "median of %d runs: setup %.1f s, submit %.1f s, collect %.1f s, total %.1f s\n",
        NR, median(s, NR), median(u, NR), median(c, NR), median(t, NR) }'
