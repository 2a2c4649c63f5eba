#!/usr/bin/env bash
# Run a command against a throw-away PostgreSQL server on loopback.
#
# Starts a fresh cluster as the postgres user in a temporary folder, exports
# CLIENTFLOW_TEST_DATABASE_URL for the command, then stops the server and
# removes the folder whatever the command's outcome.
#   scripts/with-postgres.sh [--port N] -- command args...
set -euo pipefail

port=${PGTEST_PORT:-55432}
if [ "${1:-}" = "--port" ]; then port=$2; shift 2; fi
[ "${1:-}" = "--" ] && shift

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/postgres" ]; then
  echo "PostgreSQL server not found; installing Debian's postgresql package" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

workdir=$(mktemp -d /tmp/clientflow-pg.XXXXXX)
chmod 755 "$workdir"
[ "$(id -u)" = 0 ] && chown postgres "$workdir"
cleanup() {
  as_postgres "$bindir/pg_ctl" -D "$workdir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$workdir"
}
trap cleanup EXIT INT TERM

as_postgres "$bindir/initdb" -D "$workdir/data" -U postgres -A trust -E UTF8 \
  --locale=C.UTF-8 >/dev/null
as_postgres "$bindir/pg_ctl" -D "$workdir/data" -l "$workdir/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $workdir -c fsync=off \
      -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start >/dev/null
as_postgres "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres clientflow_test

export CLIENTFLOW_TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$port/clientflow_test"
echo "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port" >&2
set +e
"$@"
status=$?
exit $status
