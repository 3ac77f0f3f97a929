#!/usr/bin/env bash
# Runs a command with a throw-away PostgreSQL server on loopback (installed from Debian packages
# when missing) and PNEN_CDS_TEST_POSTGRES_URL pointing at it; the server is removed afterwards.
# Without root or apt, the command runs without it and the PostgreSQL tests are skipped.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ -n "${PNEN_CDS_TEST_POSTGRES_URL:-}" ]; then exec "$@"; fi
if exports=$(bash "$here/postgres.sh" start); then
  eval "$exports"
  trap 'bash "$here/postgres.sh" stop >/dev/null 2>&1 || true' EXIT
  "$@"
else
  echo "with-postgres: PostgreSQL unavailable; PostgreSQL tests will be skipped" >&2
  if [ "${CI:-}" = "true" ]; then echo "with-postgres: CI requires PostgreSQL" >&2; exit 1; fi
  "$@"
fi
