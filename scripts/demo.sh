#!/usr/bin/env bash
# Install what is needed, then run the demo tour on the embedded digits data.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec bayesdl demo "$@"
