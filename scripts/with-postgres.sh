#!/usr/bin/env bash
# Runs a command with a private PostgreSQL server on loopback, its data in a temporary
# directory, and STRATA_TEST_PG pointing at it; stops the server and removes its data after.
# Needs the server binaries (Debian: apt-get install postgresql). As root, the server runs as
# the `postgres` user (initdb refuses root).
#
#   scripts/with-postgres.sh cargo test --workspace --release
set -euo pipefail
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then
  BIN=$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")
fi
if [ ! -x "$BIN/initdb" ]; then
  echo "with-postgres: PostgreSQL server binaries not found (apt-get install postgresql)" >&2
  exit 1
fi
DIR=$(mktemp -d /tmp/strata-pg.XXXXXX)
RUN=()
if [ "$(id -u)" = 0 ]; then
  chown postgres "$DIR"
  RUN=(runuser -u postgres --)
fi
PORT=$((20000 + RANDOM % 30000))
"${RUN[@]}" "$BIN/initdb" -D "$DIR/data" -U postgres -A trust >"$DIR/initdb.log" 2>&1 \
  || { cat "$DIR/initdb.log" >&2; exit 1; }
"${RUN[@]}" "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
  -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" start >/dev/null
stop() {
  "${RUN[@]}" "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap stop EXIT
export STRATA_TEST_PG="postgres://postgres@127.0.0.1:$PORT/postgres"
echo "with-postgres: PostgreSQL on 127.0.0.1:$PORT (STRATA_TEST_PG=$STRATA_TEST_PG)" >&2
"$@"
