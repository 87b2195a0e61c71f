#!/usr/bin/env bash
# Install bayesdl and everything it needs on a fresh machine.
# - Keeps a PyTorch that is already installed (for example a CUDA build on a GPU machine, or a CPU build).
# - Otherwise runs `pip install torch==2.13.0` against pip's configured indexes. On Linux x86_64, PyPI's
#   torch==2.13.0 wheel is the CUDA 13 build: it pulls the nvidia-* CUDA libraries and triton (several GB) and
#   runs on a CPU-only machine as well. Where pip can also see a CPU wheel (a find-links folder or a mirror that
#   holds torch-2.13.0+cpu, or TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu), pip picks that one instead.
# - Then installs bayesdl itself with its [dev] extras (pytest, xdist, hypothesis, ruff, and mkdocs-material with
#   mkdocstrings for the documentation site, whose strict build is part of the test suite).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c "import torch" >/dev/null 2>&1; then
  if [ -n "${TORCH_INDEX_URL:-}" ]; then
    echo "setup: installing torch==2.13.0 from $TORCH_INDEX_URL"
    "$PYTHON" -m pip install --quiet --index-url "$TORCH_INDEX_URL" "torch==2.13.0"
  else
    echo "setup: installing torch==2.13.0 from pip's configured indexes (from PyPI alone on Linux x86_64: the CUDA 13 build)"
    "$PYTHON" -m pip install --quiet "torch==2.13.0"
  fi
fi
# Fashion-MNIST comes from Debian's dataset-fashion-mnist package (bayesdl never downloads data at run time).
# The *-fashion experiments and their tests read it; install it when apt-get is available and we are root.
if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] && [ -z "${BAYESDL_DATA:-}" ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
    echo "setup: installing Debian's dataset-fashion-mnist"
    apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist >/dev/null
  else
    echo "setup: Fashion-MNIST not found; install the Debian package dataset-fashion-mnist or set BAYESDL_DATA" >&2
  fi
fi
# BayesByBackprop(compile=True) and its tests use torch.compile, whose CPU backend (TorchInductor) needs a C++ compiler.
if ! command -v g++ >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
    echo "setup: installing g++ for TorchInductor"
    apt-get update -qq && apt-get install -y -qq g++ >/dev/null
  else
    echo "setup: no C++ compiler found; BayesByBackprop(compile=True) and its tests need g++" >&2
  fi
fi
# The report browser test (tests/test_report_browser.py) drives Debian's Chromium through Playwright (from the [dev]
# extras); it uses the system browser, so `playwright install` (a download) is never needed.
if ! command -v chromium >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
    echo "setup: installing Debian's chromium for the report browser test"
    apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  else
    echo "setup: no chromium found; tests/test_report_browser.py needs it (apt-get install chromium, or set BAYESDL_CHROMIUM)" >&2
  fi
fi
echo "setup: installing bayesdl with its [dev] extras (tests, ruff, mkdocs for the docs site)"
"$PYTHON" -m pip install --quiet -e ".[dev]"
