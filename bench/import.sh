#!/usr/bin/env bash
# Import benchmark: a synthetic 1,000-ride Strava export imported cold into an empty database,
# then re-imported unchanged. Prints the median wall time of each over RUNS runs.
#
#   bench/import.sh            # 1,000 rides, 3 runs
#   RIDES=200 RUNS=5 bench/import.sh
set -euo pipefail
cd "$(dirname "$0")/.."

RIDES=${RIDES:-1000}
RUNS=${RUNS:-3}
OUT=${OUT:-bench/out/import}
BIN=${CARGO_TARGET_DIR:-target}/release/cycling-ai

echo "building release binary…" >&2
cargo build --release --locked -p cycling-ai >&2

mkdir -p "$OUT"
if [ ! -f "$OUT/export-$RIDES/activities.csv" ]; then
  echo "synthesising $RIDES rides…" >&2
  rm -rf "$OUT/gen-$RIDES"
  "$BIN" --data-dir "$OUT/gen-data" demo --out "$OUT/gen-$RIDES" --rides "$RIDES" --no-import >/dev/null
  mv "$OUT/gen-$RIDES/export" "$OUT/export-$RIDES"
  mv "$OUT/gen-$RIDES/profile.json" "$OUT/export-$RIDES/profile.json"
  rm -rf "$OUT/gen-$RIDES" "$OUT/gen-data"
fi
EXPORT="$OUT/export-$RIDES"
files=$(find "$EXPORT/activities" -type f | wc -l)
mb=$(du -sm "$EXPORT/activities" | cut -f1)
echo "export: $EXPORT ($files files, ${mb} MB compressed), $(nproc) cores"

median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.3f", m}'; }
now() { date +%s.%N; }

cold=(); warm=()
for i in $(seq "$RUNS"); do
  data="$OUT/data-$i"
  rm -rf "$data"
  t0=$(now)
  "$BIN" --data-dir "$data" import --export "$EXPORT" --profile "$EXPORT/profile.json" --json > "$OUT/cold-$i.json"
  t1=$(now)
  "$BIN" --data-dir "$data" import --export "$EXPORT" --profile "$EXPORT/profile.json" --json > "$OUT/warm-$i.json"
  t2=$(now)
  cold+=("$(python3 -c "print($t1 - $t0)")")
  warm+=("$(python3 -c "print($t2 - $t1)")")
  rm -rf "$data"
done

c=$(printf '%s\n' "${cold[@]}" | median)
w=$(printf '%s\n' "${warm[@]}" | median)
imported=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["imported"], d["decoded_files"])' "$OUT/cold-1.json")
skipped=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["skipped_unchanged"], d["decoded_files"])' "$OUT/warm-1.json")
echo "cold import:      median ${c} s over $RUNS runs (imported, decoded: $imported)"
echo "unchanged re-run: median ${w} s over $RUNS runs (skipped, decoded: $skipped)"
