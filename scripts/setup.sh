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
echo "setup: installing bayesdl and its dependencies"
"$PYTHON" -m pip install --quiet -e ".[dev]"
