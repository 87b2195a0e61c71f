#!/usr/bin/env bash
# Install what is needed, then run the whole test suite (two worker processes, one thread each).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 MPLBACKEND=Agg
exec "${PYTHON:-python3}" -m pytest -n 2 --dist loadgroup --durations=15 "$@"
