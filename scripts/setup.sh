#!/usr/bin/env bash
# Prepare this machine for winbox-py: the Debian packages the tests and the demo
# use (installed only when running as root, and only those missing), then a
# virtualenv at .venv with the project installed editable with its dev extras.
# Safe to run again: a re-run with nothing to do takes a second or two.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)

say() { printf '[setup] %s\n' "$*"; }

# Debian 12 package names (each checked with apt-cache policy).
apt_packages=(
    # the system Python and its venv module, for machines without another 3.11+
    python3 python3-venv
    # SSH transport tests: a real sshd on loopback
    openssh-server openssh-client
    # linux driver and its tests
    iproute2 nftables iputils-ping procps netcat-openbsd iperf3 sudo
    wireguard-tools wireguard-go openssl openvpn ppp pppoe xl2tpd pptp-linux sstp-client
    # Qt offscreen / under Xvfb, and screenshots
    xvfb xauth imagemagick
    libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0
    libxcb-xinerama0 libxcb-randr0 libxcb-shape0 libxcb-cursor0
    libxkbcommon-x11-0 libegl1 libgl1 libfontconfig1 libdbus-1-3
    fonts-dejavu-core
)

installed() {
    dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed'
}

# --- system packages -------------------------------------------------------
if ! command -v dpkg >/dev/null 2>&1; then
    say "no dpkg here (not Debian?): skipping system packages"
else
    missing=()
    for p in "${apt_packages[@]}"; do
        installed "$p" || missing+=("$p")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        say "system packages: all ${#apt_packages[@]} already installed"
    elif [ "$(id -u)" -ne 0 ]; then
        say "system packages: not root, skipping apt; missing: ${missing[*]}"
        say "  (as root: apt-get install -y --no-install-recommends ${missing[*]})"
    else
        say "system packages: installing ${#missing[@]}: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        # Do not let package scripts start daemons (sshd, xl2tpd, ...): the tests
        # start their own, on their own ports, and stop them again.
        policy=/usr/sbin/policy-rc.d
        made_policy=0
        if [ ! -e "$policy" ]; then
            made_policy=1
            printf '#!/bin/sh\nexit 101\n' >"$policy"
            chmod 755 "$policy"
            trap 'rm -f "$policy"' EXIT
        fi
        say "apt-get update"
        apt-get update -q -o DPkg::Lock::Timeout=120
        say "apt-get install"
        apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=120 "${missing[@]}"
        if [ "$made_policy" = 1 ]; then
            rm -f "$policy"
            trap - EXIT
        fi
        say "system packages: done"
    fi
fi

# --- Python ------------------------------------------------------------------
python_ok() {
    "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1
}

venv="$root/.venv"
if [ -x "$venv/bin/python" ] && python_ok "$venv/bin/python"; then
    say "virtualenv: .venv exists ($("$venv/bin/python" -V 2>&1))"
else
    py=""
    for candidate in ${PYTHON:-} python3 python3.11 python3.12 python3.13 /usr/bin/python3; do
        if command -v "$candidate" >/dev/null 2>&1 && python_ok "$candidate"; then
            py=$candidate
            break
        fi
    done
    if [ -z "$py" ]; then
        say "error: no Python 3.11 or newer found (set PYTHON=/path/to/python3.11)" >&2
        exit 1
    fi
    rm -rf "$venv"
    say "virtualenv: creating .venv with $py ($("$py" -V 2>&1))"
    "$py" -m venv "$venv"
fi

# The editable install records which top-level packages exist (winbox_agent
# appears once agent/ is written), so reinstall when that or pyproject changes.
stamp="$venv/.winbox-setup-stamp"
want=$(
    {
        cat pyproject.toml
        "$venv/bin/python" -V 2>&1
        for d in winbox_py agent/winbox_agent; do
            [ -f "$d/__init__.py" ] && echo "package $d"
        done
    } | sha256sum | cut -d' ' -f1
)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] \
    && "$venv/bin/python" -c 'import winbox_py' >/dev/null 2>&1; then
    say "python packages: up to date"
else
    say "python packages: pip install -e '.[dev]' (a minute or two the first time)"
    rm -f "$stamp"
    # (the filter drops a warning pip repeats for every package when its
    # configuration names a local index folder that does not exist)
    "$venv/bin/python" -m pip install -q -e '.[dev]' \
        2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2)
    echo "$want" >"$stamp"
    say "python packages: done"
fi

say "ready: $("$venv/bin/python" -c 'import PySide6, sys; print(f"Python {sys.version.split()[0]}, PySide6 {PySide6.__version__}")')"
