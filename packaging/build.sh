#!/usr/bin/env bash
# Build the one-file executable dist/winbox-py with PyInstaller, then check it:
# `--version` and the headless `--self-test` (starts the bundled demo agent,
# connects, prints the interface table, exits 0).
# Uses .venv (scripts/setup.sh makes it, with pyinstaller from the dev extras).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
py="${PYTHON:-$root/.venv/bin/python}"
if ! "$py" -c 'import PyInstaller' 2>/dev/null; then
    echo "[build] PyInstaller is missing: run scripts/setup.sh (it installs the dev extras)" >&2
    exit 1
fi
work="$root/build/pyinstaller"
echo "[build] pyinstaller (a few minutes)"
"$py" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$root/dist" --workpath "$work" packaging/winbox-py.spec
exe="$root/dist/winbox-py"
ls -l "$exe"
echo "[build] check: --version"
"$exe" --version
echo "[build] check: --self-test"
QT_QPA_PLATFORM=offscreen "$exe" --self-test
echo "[build] ok: $exe"
