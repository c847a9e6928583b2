#!/usr/bin/env bash
# Roster benchmark (issue 12): ATHLETES demo athletes (`demo --athletes`: default 120 different
# riders, small seasons of RIDES rides over WEEKS weeks, default 24 over 8) → their roster file →
# `import --roster` → `generate --all` on demand at each
# concurrency in CONCURRENCY (default "1 4") against the loopback Bedrock fake (the real AWS SDK
# talks to it; crates/cli/examples/fake_model.rs), which streams every answer at a realistic pace:
# FIRST_TOKEN s to the first token (default 0.8), then TPS output tokens a second (default 60).
# The answers are the rule-based coach's narrative and plan overview for the first athlete (the
# demo athletes share availability and, with --plan-start, plan dates, so it is valid for all);
# input tokens are the request bodies at 4 characters a token (the fake cannot tokenise).
#
# Prints per concurrency: wall time, model calls, input / output tokens, the on-demand cost at
# the catalog's price for MODEL, the same tokens at the catalog's batch price (what
# `cycling-ai batch` would pay; bench/batch_roster.sh times the batch flow itself), and the most
# calls the fake saw in flight.
#
#   bench/roster.sh                               # 120 athletes, concurrency 1 then 4: about
#                                                 # 1 + 78 + 20 min in a debug build
#   ATHLETES=12 CONCURRENCY="1 4" bench/roster.sh # a quicker sample (about 11 min)
#   PROFILE=release bench/roster.sh               # optimised build (slower to build)
set -euo pipefail
cd "$(dirname "$0")/.."

PROFILE=${PROFILE:-debug}
ATHLETES=${ATHLETES:-120}
RIDES=${RIDES:-24}
WEEKS=${WEEKS:-8}
CONCURRENCY=${CONCURRENCY:-"1 4"}
FIRST_TOKEN=${FIRST_TOKEN:-0.8}
TPS=${TPS:-60}
MODEL=${MODEL:-claude-sonnet-4.5}
PLAN_START=${PLAN_START:-2026-11-02}
OUT=${OUT:-bench/out/roster}
TARGET=${CARGO_TARGET_DIR:-target}
if [ "$PROFILE" = release ]; then flag=--release; else flag=; fi

echo "building the binary and the fake ($PROFILE)…" >&2
cargo build $flag --locked -p cycling-ai --bin cycling-ai --example fake_model >&2
BIN="$TARGET/$PROFILE/cycling-ai"
FAKE="$TARGET/$PROFILE/examples/fake_model"
OUT=$(mkdir -p "$OUT" && cd "$OUT" && pwd)
rm -rf "${OUT:?}"/*
now() { date +%s.%N; }

echo "synthesising $ATHLETES demo athletes ($RIDES rides over $WEEKS weeks each)…" >&2
"$BIN" --data-dir "$OUT/scratch" --json demo --athletes "$ATHLETES" --rides "$RIDES" --weeks "$WEEKS" \
  --out "$OUT" --no-import > /dev/null

t0=$(now)
"$BIN" --data-dir "$OUT/data" --json import --roster "$OUT/roster.toml" > "$OUT/import.json"
t1=$(now)
echo "import --roster: $(printf '%.1f' "$(echo "$t1 - $t0" | bc)") s" >&2

# The fake's answers: the rule-based report of the first athlete.
W=${#ATHLETES}; [ "$W" -lt 3 ] && W=3
FIRST=$(printf 'rider-%0*d' "$W" 1)
"$BIN" --data-dir "$OUT/data" --athlete "$FIRST" --json generate --provider offline \
  --plan-start "$PLAN_START" --output-dir "$OUT/offline" > /dev/null

for C in $CONCURRENCY; do
  echo "generate --all --concurrency $C …" >&2
  rm -f "$OUT/fake.in" "$OUT/fake.out"
  mkfifo "$OUT/fake.in"
  "$FAKE" "$OUT/offline" --repeat --first-token "$FIRST_TOKEN" --tokens-per-second "$TPS" \
    < "$OUT/fake.in" > "$OUT/fake.out" &
  FAKE_PID=$!
  exec 3> "$OUT/fake.in"   # the fake serves until this closes
  for _ in $(seq 200); do grep -q '^ENDPOINT ' "$OUT/fake.out" 2>/dev/null && break; sleep 0.05; done
  ENDPOINT=$(head -1 "$OUT/fake.out" | cut -d' ' -f2)
  t2=$(now)
  AWS_ENDPOINT_URL_BEDROCK_RUNTIME="$ENDPOINT" AWS_ACCESS_KEY_ID=AKIAFAKEFAKEFAKE7777 \
    AWS_SECRET_ACCESS_KEY=fakeSecretKeyDoNotLog/0123456789abcdefXYZ AWS_REGION=us-east-1 \
    AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent AWS_EC2_METADATA_DISABLED=true \
    CYCLING_AI_CONFIG= "$BIN" --data-dir "$OUT/data" --json generate --all --concurrency "$C" \
    --provider bedrock --model "$MODEL" --plan-start "$PLAN_START" \
    --output-dir "$OUT/reports-c$C" > "$OUT/all-c$C.json" || true
  t3=$(now)
  exec 3>&-
  wait "$FAKE_PID"
  tail -1 "$OUT/fake.out" > "$OUT/fake-c$C.json"
  echo "$t3 - $t2" | bc > "$OUT/wall-c$C.txt"
done

"$BIN" --json providers list --provider bedrock > "$OUT/catalog.json"
python3 - "$OUT" "$ATHLETES" "$RIDES rides over $WEEKS weeks" "$MODEL" "$FIRST_TOKEN" "$TPS" $CONCURRENCY <<'EOF'
import json, sys
out, athletes, rides, model, ft, tps, *levels = sys.argv[1:]
imp = json.load(open(f"{out}/import.json"))
catalog = json.load(open(f"{out}/catalog.json"))
entry = next(m for m in catalog["models"] if model == m["id"] or model in m.get("aliases", []))
p = entry["prices"]
acts = sum(r["import"]["imported"] + r["import"]["summary_only"] for r in imp if r.get("import"))
print(f"roster: {athletes} demo athletes, {rides} each ({acts} activities imported)")
print(f"fake Bedrock: {ft} s to the first token, then {tps} output tokens/s; model {model}")
print(f"{'concurrency':>11} {'wall':>9} {'athletes ok':>12} {'calls':>6} {'input tok':>10} {'output tok':>11} {'on-demand':>10} {'batch':>9} {'max in flight':>14} {'fallbacks':>10}")
for c in levels:
    j = json.load(open(f"{out}/all-c{c}.json"))
    fake = json.load(open(f"{out}/fake-c{c}.json"))
    wall = float(open(f"{out}/wall-c{c}.txt").read())
    t = j["totals"]
    fb = sum(1 for a in j["athletes"] if a.get("fallbacks"))
    # The same tokens at batch rates; the on-demand cost already carries any inference-profile
    # uplift of the resolved id, which the ratio keeps.
    base = t["input_tokens"] * p["input"] + t["output_tokens"] * p["output"]
    batch = t["cost_usd"] * (t["input_tokens"] * p["batch_input"] + t["output_tokens"] * p["batch_output"]) / base
    print(f"{c:>11} {wall:>8.1f}s {t['ok']:>5} of {t['athletes']:<4} {t['model_calls']:>6} {t['input_tokens']:>10} "
          f"{t['output_tokens']:>11} {'$%.4f' % t['cost_usd']:>10} {'$%.4f' % batch:>9} {fake['max_in_flight']:>14} {fb:>10}")
    if fake["rejections"]:
        print(f"  the fake rejected {len(fake['rejections'])} requests: {fake['rejections'][:3]}")
print(f"batch: the same tokens at {model}'s batch rates ({p['batch_input']} / {p['batch_output']} $ per million in / out"
      f" vs {p['input']} / {p['output']} on demand); a batch job's wall time is the service's (minutes to"
      f" 24 h), not measurable here — bench/batch_roster.sh times submit and collect against the fakes")
EOF
