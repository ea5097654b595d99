#!/usr/bin/env bash
# Create .venv and install the pinned dependencies when they changed.
# Usage: scripts/ensure_venv.sh [run|dev]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

extras=""
[ "${1:-run}" = "dev" ] && extras="[dev]"
stamp=".venv/.installed-${1:-run}"

if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  # Debian ships venv and ensurepip in a separate package.
  apt_install python3-venv
fi
[ -x .venv/bin/python ] || { say "creating .venv"; python3 -m venv .venv; }

if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ constraints.txt -nt "$stamp" ]; then
  say "installing Python dependencies${extras:+ (with development tools)}"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -c constraints.txt -e ".${extras}"
  touch "$stamp"
fi
