#!/usr/bin/env bash
# Creates (or refreshes) the Python venv the tests use for independent peers: the MCP SDK as a
# client, moto as a local S3 server. Prints the interpreter's path on stdout.
#
#   tests/python/setup.sh                    # → target/pyenv/bin/python
#   export CYCLING_AI_PYTHON=$(tests/python/setup.sh)
#
# Tests that need it read CYCLING_AI_PYTHON; without it they skip with a message, unless
# CYCLING_AI_REQUIRE_PYTHON=1 (set by .ci/run), when a missing peer is a failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=${CYCLING_AI_PYENV:-target/pyenv}
REQ=tests/python/requirements.txt
STAMP=$VENV/.requirements
if [ ! -x "$VENV/bin/python" ] || ! cmp -s "$REQ" "$STAMP"; then
  echo "installing test peers (PyPI) into $VENV…" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --upgrade pip >&2
  "$VENV/bin/pip" install --quiet -r "$REQ" >&2
  cp "$REQ" "$STAMP"
fi
echo "$(cd "$VENV" && pwd)/bin/python"
