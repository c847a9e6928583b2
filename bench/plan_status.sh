#!/usr/bin/env bash
# Cost of following a plan on a season of real-shaped rides: `plan status` (every ride in the
# plan matched, each structured workout's intervals judged from its 1 Hz FIT file, read again
# from the import folder) and `today` (form from the PMC, the workout file written once).
# A demo season, a 12-week plan laid over its last 12 weeks (so the rides fall inside the plan),
# then RUNS timed runs of each command; prints the median wall time.
#
#   bench/plan_status.sh               # release build
#   RUNS=9 RIDES=220 bench/plan_status.sh
#   BIN=target/debug/cycling-ai bench/plan_status.sh   # an existing binary, no build
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-5}
RIDES=${RIDES:-220}
if [ -z "${BIN:-}" ]; then
  cargo build --release --locked -p cycling-ai >&2
  BIN=${CARGO_TARGET_DIR:-target}/release/cycling-ai
fi
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

"$BIN" demo --rides "$RIDES" --out "$OUT/demo" >/dev/null
DATA=$OUT/demo/data
LAST=$("$BIN" --data-dir "$DATA" --json activities | python3 -c 'import json,sys; print(max(a["date"] for a in json.load(sys.stdin)))')
START=$(python3 -c "import datetime as d; x=d.date.fromisoformat('$LAST')-d.timedelta(weeks=11); print(x-d.timedelta(days=x.weekday()))")
"$BIN" --data-dir "$DATA" generate --provider offline --output-dir "$OUT/report" \
  --plan-start "$START" --training-plan-weeks 12 >/dev/null

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_it() {
  for _ in $(seq "$RUNS"); do
    s=$(date +%s.%N)
    "$@" >/dev/null
    e=$(date +%s.%N)
    echo "$e - $s" | bc
  done | median
}

WORKOUTS=$("$BIN" --data-dir "$DATA" --json plan status --date "$LAST" | python3 -c 'import json,sys; j=json.load(sys.stdin); w=j["workouts"]; print(len(w), sum(1 for x in w if x.get("intervals")), sum(1 for x in w if x["actual"]))')
echo "plan: $START, 12 weeks; as of $LAST: planned workouts, judged for intervals, matched = $WORKOUTS"
echo "plan status --json  median $(time_it "$BIN" --data-dir "$DATA" --json plan status --date "$LAST") s over $RUNS runs"
echo "today               median $(time_it "$BIN" --data-dir "$DATA" today --date "$LAST") s over $RUNS runs"
