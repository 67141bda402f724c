#!/usr/bin/env bash
# Screenshots of the desktop under Xvfb (apt: xvfb imagemagick and the xcb
# libraries scripts/setup.sh installs). Output: packaging/screenshots/out/*.png
# and docs/screenshot-main.png.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
py="${PYTHON:-.venv/bin/python}"
display=":${SCREENSHOT_DISPLAY:-97}"
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
trap 'kill "$xvfb" 2>/dev/null || true' EXIT
for _ in $(seq 50); do
    DISPLAY="$display" xdpyinfo >/dev/null 2>&1 && break
    sleep 0.1
done
# a private config home so the user's saved layout does not change the pictures
export XDG_CONFIG_HOME="$(mktemp -d)" XDG_STATE_HOME="$(mktemp -d)"
DISPLAY="$display" QT_QPA_PLATFORM=xcb "$py" packaging/screenshots/take.py
