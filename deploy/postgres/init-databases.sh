#!/bin/sh
# Runs once, on the first start of an empty data volume (both the official image and
# deploy/postgres/local-entrypoint.sh run /docker-entrypoint-initdb.d/*.sh then).
# One role and one database per service (the portal's holds its sessions): a service
# can read and change only its own tables, as the architecture promises. Passwords
# come from the environment (<SERVICE>_DB_PASSWORD, from deploy/.env), never from this
# file. PEERLINE_DATABASES names others, e.g. one added to a running region
# (docs/deployment.md, "Adding the portal to a running region").
set -eu
for name in ${PEERLINE_DATABASES:-incidents roster checkins notify metrics portal}; do
  var=$(echo "${name}_DB_PASSWORD" | tr '[:lower:]' '[:upper:]')
  password=$(printenv "$var") || { echo "$var is not set" >&2; exit 1; }
  psql -v ON_ERROR_STOP=1 -q --username "${POSTGRES_USER:-postgres}" --dbname postgres \
    -v name="$name" -v password="$password" <<'SQL'
CREATE ROLE :"name" LOGIN PASSWORD :'password';
CREATE DATABASE :"name" OWNER :"name";
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
SQL
done
