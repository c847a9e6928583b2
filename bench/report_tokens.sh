#!/usr/bin/env bash
# Report benchmark: model calls, input / output tokens and non-model time of one
# `cycling-ai generate` with a model, on the demo season (a year of synthetic rides), against the
# loopback fake of Bedrock (the real AWS SDK talks to it; crates/cli/examples/fake_model.rs).
#
# Goals (issue 5): ≤ 3 model calls, ≤ 8,000 input tokens, ≤ 3,000 output tokens per report with
# the library planner, non-model time < 2 s for a year of data.
#
# Token counts are ESTIMATES at 4 characters per token: the fake cannot tokenise, so the helper
# measures the request bodies exactly as sent (system prompt, messages, tool schemas and the
# Converse JSON framing — an overestimate of what a tokenizer would count) and the scripted
# answers, which are the rule-based coach's narrative and plan overview for the same data
# (a realistic size for what a model writes).
#
#   bench/report_tokens.sh                 # release build, seed 42
#   PROFILE=debug bench/report_tokens.sh   # faster to build, slower to run
set -euo pipefail
cd "$(dirname "$0")/.."

PROFILE=${PROFILE:-release}
SEED=${SEED:-42}
OUT=${OUT:-bench/out/report_tokens}
TARGET=${CARGO_TARGET_DIR:-target}
if [ "$PROFILE" = release ]; then flag=--release; else flag=; fi

echo "building the binary and the fake ($PROFILE)…" >&2
cargo build $flag --locked -p cycling-ai --bin cycling-ai --example fake_model >&2
BIN="$TARGET/$PROFILE/cycling-ai"
FAKE="$TARGET/$PROFILE/examples/fake_model"

rm -rf "$OUT"
mkdir -p "$OUT"
now() { date +%s.%N; }

echo "synthesising the demo season (seed $SEED)…" >&2
"$BIN" --data-dir "$OUT/data" --json demo --out "$OUT/demo" --seed "$SEED" --no-import > "$OUT/demo.json"
EXPORT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["export_dir"])' "$OUT/demo.json")
PROFILE_JSON=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["profile"])' "$OUT/demo.json")

# 1. The rule-based report: imports the season (timed separately) and gives the fake realistic
#    answers (its narrative and plan overview).
t0=$(now)
"$BIN" --data-dir "$OUT/data" --json generate --provider offline --export "$EXPORT" \
  --profile "$PROFILE_JSON" --output-dir "$OUT/offline" > "$OUT/offline.json"
t1=$(now)

# 2. The same report with a model (Bedrock through the SDK against the fake), data already in
#    the store.
mkfifo "$OUT/fake.in"
"$FAKE" "$OUT/offline" < "$OUT/fake.in" > "$OUT/fake.out" &
FAKE_PID=$!
exec 3> "$OUT/fake.in"   # the fake serves until this closes
for _ in $(seq 200); do grep -q '^ENDPOINT ' "$OUT/fake.out" 2>/dev/null && break; sleep 0.05; done
ENDPOINT=$(head -1 "$OUT/fake.out" | cut -d' ' -f2)
t2=$(now)
AWS_ENDPOINT_URL_BEDROCK_RUNTIME="$ENDPOINT" AWS_ACCESS_KEY_ID=AKIAFAKEFAKEFAKE7777 \
  AWS_SECRET_ACCESS_KEY=fakeSecretKeyDoNotLog/0123456789abcdefXYZ AWS_REGION=us-east-1 \
  AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent AWS_EC2_METADATA_DISABLED=true \
  CYCLING_AI_CONFIG= "$BIN" --data-dir "$OUT/data" --json generate --provider bedrock --model claude-sonnet-4.5 \
  --profile "$PROFILE_JSON" --output-dir "$OUT/model" > "$OUT/model.json"
t3=$(now)
exec 3>&-
wait "$FAKE_PID"
tail -1 "$OUT/fake.out" > "$OUT/fake.json"

python3 - "$OUT" "$t0" "$t1" "$t2" "$t3" <<'EOF'
import json, sys
out, t0, t1, t2, t3 = sys.argv[1], *map(float, sys.argv[2:])
model = json.load(open(f"{out}/model.json"))
fake = json.load(open(f"{out}/fake.json"))
offline = json.load(open(f"{out}/offline.json"))
demo = json.load(open(f"{out}/demo.json"))
phases = model["phases"]
calls = sum(p["model_calls"] for p in phases)
wait = sum(p.get("model_wait_s", 0.0) for p in phases)
total = t3 - t2
# Phases 2 and 3 wait on the model at the same time, so their waits may add up to more than the
# wall time: the time outside the model is each phase's own work plus the process around the run.
own = sum(p["seconds"] - p.get("model_wait_s", 0.0) for p in phases)
non_model = (total - model["wall_s"]) + own
inp, outp = fake["input_tokens_est"], fake["output_tokens_est"]
print(f"demo season: {demo['rides']} rides, {demo['runs']} runs, {demo['strength']} strength sessions, "
      f"{demo['season_start']}..{demo['season_end']}")
print(f"import + rule-based report (cold, no model): {t1 - t0:.2f} s")
print(f"report with a model ({model['provider']} {model.get('model')}):")
print(f"  model calls:       {calls}  (requests the fake received: {fake['requests']}, rejected: {len(fake['rejections'])})   goal ≤ 3")
print(f"  input tokens:      {inp}  (est. chars/4 of the request bodies {fake['input_chars']})   goal ≤ 8000")
print(f"  output tokens:     {outp}  (est. chars/4 of the answers {fake['output_chars']})   goal ≤ 3000")
print(f"  wall time:         {total:.2f} s; waiting on the fake {wait:.2f} s summed over the phases (2 and 3 overlap)")
print(f"  non-model time:    {non_model:.2f} s   goal < 2 s")
for p in phases:
    print(f"    {p['phase']:<24} {p['seconds']:.3f} s  calls {p['model_calls']}  wait {p.get('model_wait_s', 0):.3f} s")
ok = calls <= 3 and inp <= 8000 and outp <= 3000 and non_model < 2.0 and not fake["rejections"]
print("all goals met" if ok else "GOAL MISSED")
sys.exit(0 if ok else 1)
EOF
