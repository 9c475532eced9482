# shellcheck shell=bash
# Sourced by the scripts in scripts/vader: creates (once) and checks the
# virtualenv holding the pinned reference, and sets $VADER_PY to its python.
#
# Location: ${SENTIFLOW_CACHE:-$HOME/.cache/sentiflow}/venv-vader
# Interpreter: $VADER_PYTHON if set, else python3 (any CPython >= 3.8).

vader_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
vader_cache=${SENTIFLOW_CACHE:-$HOME/.cache/sentiflow}
vader_venv=$vader_cache/venv-vader
VADER_PY=$vader_venv/bin/python

vader_ensure_venv() {
    local stamp="$vader_venv/.sentiflow-requirements"
    if [ -x "$VADER_PY" ] && [ -f "$stamp" ] && cmp -s "$stamp" "$vader_dir/requirements.txt"; then
        return 0
    fi
    local py=${VADER_PYTHON:-python3}
    command -v "$py" >/dev/null || { echo "error: $py not found; install Python 3 (or set VADER_PYTHON)" >&2; return 1; }
    echo "scripts/vader: creating $vader_venv with $("$py" --version 2>&1)" >&2
    mkdir -p "$vader_cache"
    rm -rf "$vader_venv"
    "$py" -m venv "$vader_venv" || { echo "error: '$py -m venv' failed (on Debian: apt-get install python3-venv)" >&2; return 1; }
    "$VADER_PY" -m pip install --quiet --disable-pip-version-check --no-deps -r "$vader_dir/requirements.txt" \
        || { echo "error: pip could not install $vader_dir/requirements.txt (network? a PyPI mirror via PIP_INDEX_URL?)" >&2; return 1; }
    cp "$vader_dir/requirements.txt" "$stamp"
}
