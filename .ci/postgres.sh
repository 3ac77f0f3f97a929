#!/usr/bin/env bash
# A throw-away PostgreSQL server on loopback for the store tests.
#   bash .ci/postgres.sh start   # prints `export PNEN_CDS_TEST_POSTGRES_URL=...` (only that, on stdout)
#   bash .ci/postgres.sh status  # exit 0 while it runs
#   bash .ci/postgres.sh stop    # stops it and removes its data directory
# Installs the Debian `postgresql` package when no server binaries are found (root only). The
# server runs as the `postgres` user when started by root (initdb refuses root), trusts loopback
# connections and runs with fsync off: for tests only, never for data that matters.
set -euo pipefail

STATE=${PNEN_CDS_PG_STATE:-${TMPDIR:-/tmp}/pnen-cds-postgres.state}
FIRST_PORT=${PNEN_CDS_PG_PORT:-55432}
DATABASE=pnen_cds_test

log() { echo "postgres.sh: $*" >&2; }

bindir() {
  local dir found
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5 -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then echo "$dir"; return 0; fi
  done
  if found=$(command -v initdb 2>/dev/null); then dirname "$(readlink -f "$found")"; return 0; fi
  return 1
}

install_server() {
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    log "no PostgreSQL server binaries, and cannot install them (needs root and apt-get)"
    return 1
  fi
  log "installing PostgreSQL (apt-get install postgresql)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
}

run_as() {
  # Runs a server command as RUNAS (when root) from a directory that user can read.
  if [ -n "$RUNAS" ]; then
    (cd / && runuser -u "$RUNAS" -- "$@")
  else
    (cd / && "$@")
  fi
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

url() { echo "postgresql+psycopg://postgres@127.0.0.1:$PORT/$DATABASE"; }

running() {
  [ -f "$STATE" ] || return 1
  # shellcheck disable=SC1090
  . "$STATE"
  run_as "$BINDIR/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

start() {
  if running; then
    log "already running on port $PORT"
    echo "export PNEN_CDS_TEST_POSTGRES_URL=$(url)"
    return 0
  fi
  if [ -f "$STATE" ]; then stop; fi # a stale state file from a server that died
  BINDIR=$(bindir) || { install_server && BINDIR=$(bindir); } || return 1
  RUNAS=""
  if [ "$(id -u)" = 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
      useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin postgres
    fi
    RUNAS=postgres
  fi
  PORT=$FIRST_PORT
  while ! port_free "$PORT"; do
    PORT=$((PORT + 1))
    if [ "$PORT" -gt $((FIRST_PORT + 100)) ]; then log "no free port from $FIRST_PORT"; return 1; fi
  done
  local top
  top=$(mktemp -d "${TMPDIR:-/tmp}/pnen-cds-pg.XXXXXX")
  chmod 700 "$top"
  if [ -n "$RUNAS" ]; then chown "$RUNAS" "$top"; fi
  DATA=$top/db
  printf 'BINDIR=%q\nDATA=%q\nPORT=%q\nRUNAS=%q\n' "$BINDIR" "$DATA" "$PORT" "$RUNAS" >"$STATE"
  log "initdb in $DATA with $BINDIR"
  if ! run_as "$BINDIR/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --locale=C >&2 ||
    ! run_as "$BINDIR/pg_ctl" -D "$DATA" -l "$top/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $PORT -c unix_socket_directories=$top -c fsync=off" \
      start >&2 ||
    ! run_as "$BINDIR/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$DATABASE" >&2; then
    cat "$top/server.log" >&2 2>/dev/null || true
    stop
    return 1
  fi
  log "PostgreSQL running on 127.0.0.1:$PORT, database $DATABASE"
  echo "export PNEN_CDS_TEST_POSTGRES_URL=$(url)"
}

stop() {
  if [ ! -f "$STATE" ]; then log "not running"; return 0; fi
  # shellcheck disable=SC1090
  . "$STATE"
  if [ -d "$DATA" ]; then
    run_as "$BINDIR/pg_ctl" -D "$DATA" -m fast -w stop >&2 || true
  fi
  case "$DATA" in
    */pnen-cds-pg.*/db) rm -rf "$(dirname "$DATA")" ;;
  esac
  rm -f "$STATE"
  log "stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) running ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
