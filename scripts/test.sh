#!/usr/bin/env bash
# The whole test suite: lint, migrations and translations up to date, the pins of uv.lock
# audited for known vulnerabilities (when an advisory source is reachable; it says so when
# not), the tests on SQLite, then again on PostgreSQL when one is reachable (required when
# CI=true), browser tests included.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export VAXOPS_FAST_HASHER=1
PG_URL="${VAXOPS_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

echo "== ruff"
$BIN/ruff check .
echo "== migrations are up to date"
$BIN/python manage.py makemigrations --check --dry-run
echo "== translations (zh_Hans) are up to date"
$BIN/python scripts/check_translations.py
echo "== dependency audit (uv.lock)"
# Fails on a known vulnerability; prints "!! dependency audit not run: …" when no advisory
# source answers (no network), which does not fail the run unless VAXOPS_AUDIT_REQUIRED=1.
$BIN/python scripts/audit_dependencies.py

if [ -x /usr/bin/chromium ]; then
  export VAXOPS_CHROMIUM=/usr/bin/chromium
elif [ "${CI:-}" = "true" ]; then
  echo "Chromium is missing (/usr/bin/chromium): browser tests cannot run" >&2; exit 1
else
  echo "!! Chromium not found: browser tests will be skipped (install Debian's chromium)"
fi

echo "== tests on SQLite"
VAXOPS_DATABASE_URL="sqlite:///$PWD/var/test.sqlite3" $BIN/pytest -q "$@"

if $BIN/python -c "import psycopg,sys; psycopg.connect(sys.argv[1], connect_timeout=3).close()" "$PG_URL" 2>/dev/null; then
  echo "== tests on PostgreSQL"
  VAXOPS_DATABASE_URL="$PG_URL" $BIN/pytest -q "$@"
elif [ "${CI:-}" = "true" ]; then
  echo "PostgreSQL is not reachable at $PG_URL" >&2; exit 1
else
  echo "!! PostgreSQL not reachable at $PG_URL: skipped the PostgreSQL run"
fi
