#!/usr/bin/env bash
# Prepares the machine (scripts/setup.sh), then starts the desktop program
# connected to the built-in demo router. Arguments go to winbox-py.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
exec .venv/bin/winbox-py --demo "$@"
