#!/usr/bin/env bash
# FIT decoding throughput: our decoder (crates/ride, release build) against Python's fitdecode on
# the same files, one core each, in one run. Prints records/s for both and the ratio.
#
#   bench/fit_decode.sh                    # default fixtures from ../shared/fixtures/fit
#   RUNS=20 PY_RUNS=5 bench/fit_decode.sh  # more runs
#   bench/fit_decode.sh a.fit b.fit        # your own files
#
# Creates bench/.venv (gitignored) with fitdecode on first use.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-20}
PY_RUNS=${PY_RUNS:-3}
FIX=../shared/fixtures/fit/python-fitparse

if [ "$#" -gt 0 ]; then
  FILES=("$@")
else
  if [ ! -d "$FIX" ]; then
    echo "fixtures absent ($FIX): pass FIT files as arguments" >&2
    exit 1
  fi
  FILES=(
    "$FIX/Edge810-Vector-2013-08-16-15-35-10.fit"
    "$FIX/2019-02-17-062644-ELEMNT-297E-195-0.fit"
    "$FIX/activity-large-fenxi2-multisport.fit"
    "$FIX/garmin-edge-500-activity.fit"
    "$FIX/compressed-speed-distance.fit"
  )
fi

if [ ! -x bench/.venv/bin/python ]; then
  echo "creating bench/.venv with fitdecode…" >&2
  python3 -m venv bench/.venv
  bench/.venv/bin/pip install --quiet fitdecode >&2
fi

echo "building decode_bench (release)…" >&2
cargo build --release --locked -p ride --example decode_bench >&2
BIN=${CARGO_TARGET_DIR:-target}/release/examples/decode_bench

echo "== ours (rustyfit + ride::fit), $RUNS runs"
ours=$("$BIN" -n "$RUNS" "${FILES[@]}")
echo "$ours"
echo "== fitdecode $(bench/.venv/bin/python -c 'import fitdecode; print(fitdecode.__version__)'), $PY_RUNS runs"
theirs=$(bench/.venv/bin/python bench/fitdecode_bench.py -n "$PY_RUNS" "${FILES[@]}")
echo "$theirs"

r_ours=$(echo "$ours" | awk '/^records\/s:/ {print $2}')
r_theirs=$(echo "$theirs" | awk '/^records\/s:/ {print $2}')
echo "== summary ($(nproc) cores on this machine; both decoders single-threaded)"
awk -v a="$r_ours" -v b="$r_theirs" 'BEGIN {
  printf "ours:      %12.0f records/s\nfitdecode: %12.0f records/s\nratio:     %12.1fx\n", a, b, a / b
}'
