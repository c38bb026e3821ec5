# Sourced by scripts/*: a .venv with the pinned versions (constraints.txt) and this package.
if [ ! -x .venv/bin/python ] || ! cmp -s constraints.txt .venv/.constraints 2>/dev/null || ! cmp -s pyproject.toml .venv/.pyproject 2>/dev/null; then
  echo "== installing into .venv (pinned by constraints.txt)"
  python3.11 -m venv .venv 2>/dev/null || python3 -m venv .venv
  .venv/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt -e ".[test,dev]"
  cp constraints.txt .venv/.constraints
  cp pyproject.toml .venv/.pyproject
fi
source .venv/bin/activate
