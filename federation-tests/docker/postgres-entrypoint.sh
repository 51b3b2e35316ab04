#!/bin/sh
# Runs Debian's PostgreSQL server in the foreground as the container's main
# process. On first start (an empty $PGDATA) it creates the cluster, lets
# clients of the container network in with a password, and creates
# $POSTGRES_USER (password $POSTGRES_PASSWORD) owning $POSTGRES_DB.
set -eu

: "${PGDATA:=/var/lib/postgresql/data}"
: "${POSTGRES_USER:=rosefed}"
: "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"
: "${POSTGRES_DB:=$POSTGRES_USER}"

bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }

mkdir -p "$PGDATA" /run/postgresql
chown postgres:postgres "$PGDATA" /run/postgresql
chmod 700 "$PGDATA"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  echo "postgres-entrypoint: initialising $PGDATA"
  as_postgres "$bin/initdb" -D "$PGDATA" -U postgres --auth-local=trust \
    --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  {
    echo "listen_addresses = '*'"
    echo "unix_socket_directories = '/run/postgresql'"
  } >>"$PGDATA/postgresql.conf"
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"

  # Set up over the local socket only, before the network listener opens.
  as_postgres "$bin/pg_ctl" -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
  password=$(printf '%s' "$POSTGRES_PASSWORD" | sed "s/'/''/g")
  as_postgres "$bin/psql" -v ON_ERROR_STOP=1 -q -h /run/postgresql -U postgres -d postgres <<SQL
CREATE ROLE "$POSTGRES_USER" LOGIN PASSWORD '$password';
CREATE DATABASE "$POSTGRES_DB" OWNER "$POSTGRES_USER";
SQL
  as_postgres "$bin/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
  echo "postgres-entrypoint: created role $POSTGRES_USER and database $POSTGRES_DB"
fi

exec setpriv --reuid=postgres --regid=postgres --init-groups "$bin/postgres" -D "$PGDATA"
