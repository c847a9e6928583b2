#!/usr/bin/env bash
# Checks generated HTML reports in a real headless browser (Debian's chromium, driven by
# Playwright for Python; both installed here when missing). Screenshots are kept as artifacts in
# target/browser/*/screenshot.png.
#
#   tests/browser/run.sh            # the demo report + a report whose activity name is a <script>
set -euo pipefail
cd "$(dirname "$0")/../.."

OUT=target/browser
mkdir -p "$OUT"

if ! command -v chromium >/dev/null 2>&1; then
  echo "installing chromium (Debian package)…" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq chromium >&2
fi
VENV=$OUT/venv
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import playwright' 2>/dev/null; then
  echo "installing playwright (PyPI) into $VENV…" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet playwright >&2
fi

cargo build --locked -p cycling-ai >&2
BIN=${CARGO_TARGET_DIR:-target}/debug/cycling-ai

# 1. The demo's full report.
rm -rf "$OUT/demo"
"$BIN" demo --rides 80 --out "$OUT/demo" >/dev/null
"$VENV/bin/python" tests/browser/check_report.py "$OUT/demo/report" --min-charts 5 --expect-projection

# 2. Hostile user text: an activity named <script>alert(1)</script> must show as text.
rm -rf "$OUT/xss"
mkdir -p "$OUT/xss"
{
  echo "Activity ID,Activity Date,Activity Name,Activity Type,Elapsed Time,Moving Time,Distance,Distance"
  for i in $(seq 1 30); do
    name="Morning Ride"
    [ "$i" = 30 ] && name="<script>alert(1)</script>"
    echo "$i,\"Sep $(( (i % 28) + 1 )), 2026, 8:00:00 AM\",\"$name\",Ride,$(( 3600 + i * 120 )),$(( 3500 + i * 120 )),$(( 30 + i )).0,$(( 30000 + i * 1000 )).0"
  done
} > "$OUT/xss/activities.csv"
cat > "$OUT/xss/athlete.json" <<'JSON'
{"name": "<b>Bold</b> & \"Quoted\"", "ftp_w": 250, "weight_kg": 70,
 "training_availability": {"hours_per_week": 6, "week_days": ["tuesday", "thursday", "saturday", "sunday"]}}
JSON
"$BIN" --data-dir "$OUT/xss/data" generate --csv "$OUT/xss/activities.csv" --profile "$OUT/xss/athlete.json" \
  --output-dir "$OUT/xss/report" >/dev/null
"$VENV/bin/python" tests/browser/check_report.py "$OUT/xss/report" --min-charts 2 \
  --expect-text '<script>alert(1)</script>'
"$VENV/bin/python" tests/browser/check_report.py "$OUT/xss/report" --min-charts 2 \
  --expect-text '<b>Bold</b> & "Quoted"'
echo "browser checks passed"
