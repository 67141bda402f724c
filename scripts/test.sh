#!/usr/bin/env bash
# The whole test suite: prepares the machine (scripts/setup.sh), then runs
# pytest with Qt offscreen. Arguments go to pytest: scripts/test.sh -k layering
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
export QT_QPA_PLATFORM=offscreen
exec .venv/bin/python -m pytest -q "$@"
