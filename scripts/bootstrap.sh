#!/usr/bin/env bash
# Create .venv and install everything the assistant needs. Idempotent: a stamp records the
# pyproject.toml it installed; rerunning with nothing changed takes a second.
#  - torch is pinned to the local CPU build (an unpinned torch pulls a multi-GB CUDA build);
#  - llama-cpp-python is built from source once, portably: its default native build crashes
#    on this CPU (Illegal instruction in the AMX path), and pip's wheel cache ignores
#    CMAKE_ARGS, hence --no-cache-dir.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-}
if [ -z "$PYTHON" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      PYTHON=$candidate; break
    fi
  done
fi
[ -n "$PYTHON" ] || { echo "Python 3.11 is required (set PYTHON=/path/to/python3.11)" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $PYTHON"
  "$PYTHON" -m venv .venv
fi
PIP=".venv/bin/python -m pip"
# The lock (requirements/lock.txt, requirements/llm-lock.txt; `make lock` regenerates them) pins
# every package with its hashes. torch is the CPU build 2.13.0+cpu: this machine's pip finds it
# in a local wheel folder; elsewhere set TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
# (or a CUDA index on a GPU machine, after `make lock` with that torch).
TORCH_INDEX=${TORCH_INDEX_URL:+--extra-index-url $TORCH_INDEX_URL}
stamp=.venv/.bootstrap-$(cat pyproject.toml requirements/lock.txt | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "==> installing the locked environment (requirements/lock.txt, hashes checked)"
  # shellcheck disable=SC2086
  $PIP install --progress-bar on --require-hashes --no-deps $TORCH_INDEX -r requirements/lock.txt
  $PIP install --progress-bar on --no-deps --no-build-isolation -e .
  rm -f .venv/.bootstrap-* && touch "$stamp"
fi

if ! .venv/bin/python -c "import llama_cpp" >/dev/null 2>&1; then
  echo "==> building llama-cpp-python 0.3.36 portably (about 6 minutes on 2 cores, once)"
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DLLAVA_BUILD=OFF" \
    $PIP install --no-cache-dir --progress-bar on --require-hashes --no-deps -r requirements/llm-lock.txt
fi
echo "==> environment ready (.venv)"
