# Sourced by scripts/run and scripts/test: create .venv and install the project into it.
# Reinstalls only when pyproject.toml changed since the last install.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PYTHON="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
    echo "creating $VENV" >&2
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
fi
STAMP="$VENV/.installed-$1"
if [ ! -f "$STAMP" ] || [ "$ROOT/pyproject.toml" -nt "$STAMP" ]; then
    echo "installing the project into $VENV ($1)" >&2
    if [ "$1" = run ]; then spec="$ROOT"; else spec="$ROOT[$1]"; fi
    "$VENV/bin/python" -m pip install --quiet -e "$spec"
    touch "$STAMP"
fi
