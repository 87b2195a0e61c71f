#!/usr/bin/env bash
# Install bayesdl and everything it needs on a fresh machine.
# - Keeps a PyTorch that is already installed (for example a CUDA build on a GPU machine).
# - Otherwise installs the CPU build of PyTorch 2.13.0, then bayesdl with its [dev] extras.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c "import torch" >/dev/null 2>&1; then
  echo "setup: installing the CPU build of PyTorch (torch==2.13.0)"
  "$PYTHON" -m pip install --quiet "torch==2.13.0"
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
echo "setup: installing bayesdl and its dependencies"
"$PYTHON" -m pip install --quiet -e ".[dev]"
