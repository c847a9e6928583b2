#!/usr/bin/env bash
# Memory of `cycling-ai mcp` over a long session: 1,000 sequential tool calls on one stdio session
# (a mix of every read-only tool, malformed calls and preview → confirm writes), the server's
# resident memory (VmRSS from /proc/PID/status) sampled after initialise, every 100 calls and at
# the end. Prints the samples and the growth from calls 100 and 200 to the last (the first calls
# fill caches: SQLite's and the allocator's pools, the tool definitions).
#
#   bench/mcp_memory.sh                  # release build, demo season of 220 rides
#   CALLS=5000 bench/mcp_memory.sh       # longer
#   BIN=target/debug/cycling-ai bench/mcp_memory.sh   # an existing build
#
# Linux only (/proc). Needs python3 (standard library only: the client speaks JSON-RPC lines).
set -euo pipefail
cd "$(dirname "$0")/.."

CALLS=${CALLS:-1000}
if [ -z "${BIN:-}" ]; then
  BIN=${CARGO_TARGET_DIR:-target}/release/cycling-ai
  cargo build --release --locked -p cycling-ai >&2
fi
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
"$BIN" --data-dir "$OUT/data" demo --out "$OUT/demo" >/dev/null

python3 - "$BIN" "$OUT/data" "$CALLS" <<'PY'
import json, subprocess, sys

binary, data_dir, calls = sys.argv[1], sys.argv[2], int(sys.argv[3])
server = subprocess.Popen([binary, "--data-dir", data_dir, "mcp"], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)
next_id = 0

def rss_kib():
    with open(f"/proc/{server.pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

def request(method, params):
    global next_id
    next_id += 1
    server.stdin.write(json.dumps({"jsonrpc": "2.0", "id": next_id, "method": method,
                                   "params": params}) + "\n")
    server.stdin.flush()
    while True:
        msg = json.loads(server.stdout.readline())
        if msg.get("id") == next_id:
            if "error" in msg:
                raise SystemExit(f"{method}: {msg['error']}")
            return msg["result"]

request("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                       "clientInfo": {"name": "mcp-memory-bench", "version": "1"}})
server.stdin.write(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}) + "\n")
server.stdin.flush()

mix = [
    ("get_athlete_profile", {}),
    ("list_activities", {"limit": 20}),
    ("compare_periods", {"weeks": 4}),
    ("time_in_zones", {"weeks": 8}),
    ("get_fitness_trend", {"weeks": 26}),
    ("get_power_curve", {"weeks": 12}),
    ("get_cross_training", {}),
    ("calculate_zones", {"ftp_w": 260, "lthr_bpm": 168}),
    ("estimate_thresholds", {}),
    ("get_weekly_volume", {"weeks": 12}),
    ("get_training_plan", {}),
    ("plan_compliance", {}),
    ("list_athletes", {}),
    ("no_such_tool", {}),
    ("list_activities", {"limit": "ten"}),
    ("list_activities", {"text": "x" * 70000}),
]
samples = [(0, rss_kib())]
errors = 0
made = 0
for i in range(1, calls + 1):
    if i % 50 == 0:
        # A write: preview, then confirm with the token.
        preview = request("tools/call", {"name": "save_athlete_profile",
                                         "arguments": {"hours_per_week": 8 + i % 3}})
        token = preview["structuredContent"]["preview_token"]
        made += 1
        result = request("tools/call", {"name": "save_athlete_profile",
                                        "arguments": {"confirm": True, "preview_token": token}})
    else:
        name, args = mix[i % len(mix)]
        result = request("tools/call", {"name": name, "arguments": args})
    made += 1
    errors += bool(result.get("isError"))
    if i % 100 == 0:
        samples.append((i, rss_kib()))
server.stdin.close()
server.wait(timeout=30)

print(f"{made} sequential tool calls on one stdio session ({errors} tool errors, by design)")
print("calls  VmRSS (MiB)")
for n, kib in samples:
    print(f"{n:5d}  {kib / 1024:8.1f}")
# The first 200 calls warm up: SQLite's and the allocator's pools, every tool's code paths.
last = samples[-1][1]
for start in (100, 200):
    base = dict(samples).get(start)
    if base:
        print(f"growth from call {start} to call {calls}: {(last - base) / 1024:+.1f} MiB "
              f"({(last - base) / base * 100:+.1f} %)")
PY
