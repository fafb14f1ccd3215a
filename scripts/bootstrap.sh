#!/usr/bin/env bash
# Creates .venv and installs the project with its development tools; quick when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
if ! command -v "$PYTHON" >/dev/null 2>&1; then PYTHON=python3; fi
if [ ! -x .venv/bin/python ]; then
  echo "Creating the virtual environment (.venv) with $PYTHON ..."
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "Installing the portal's dependencies ..."
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[dev]"
  touch "$stamp"
fi
mkdir -p var
