#!/bin/sh
# First start: create the cluster with the superuser's password, run the init scripts
# against a server that listens on its socket only (so the health check, which uses
# TCP, stays red until they are done), then run the server in the foreground.
set -eu
bin=$(ls -d /usr/lib/postgresql/*/bin | tail -n1)
# The server's own tools, and psql talking to this server, not to a Debian cluster.
export PATH="$bin:$PATH" PGHOST=/var/run/postgresql PGPORT=5432
: "${POSTGRES_USER:=postgres}"
export POSTGRES_USER
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  # A first start that fails leaves nothing behind, so the next one starts over
  # instead of serving a cluster without its databases.
  trap 'rm -rf "$PGDATA"/*' EXIT
  pwfile=$(mktemp)
  printf '%s\n' "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required}" >"$pwfile"
  initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
  for script in /docker-entrypoint-initdb.d/*.sh; do
    if [ -e "$script" ]; then sh "$script"; fi
  done
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  trap - EXIT
fi
exec postgres -D "$PGDATA" -c listen_addresses='*'
