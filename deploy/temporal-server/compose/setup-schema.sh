#!/bin/sh
# docker-compose.yml's temporal-schema job (temporalio/admin-tools image): creates Temporal's two
# databases when missing and brings their schemas to the server version's latest, idempotently, the
# same steps infra/temporalServer.ts runs locally (setup-schema -v 0.0, then update-schema).
set -eu
: "${POSTGRES_SEEDS:?}" "${POSTGRES_USER:?}" "${SQL_PASSWORD:?}"

sql() { temporal-sql-tool --plugin postgres12 --endpoint "$POSTGRES_SEEDS" --port "${DB_PORT:-5432}" --user "$POSTGRES_USER" "$@"; }

for pair in "${DBNAME:-temporal}:temporal" "${VISIBILITY_DBNAME:-temporal_visibility}:visibility"; do
  db=${pair%%:*}
  schema=${pair#*:}
  # create-database refuses an existing database; anything else it says is a real failure.
  if ! out=$(sql --database "$db" create-database 2>&1); then
    echo "$out" | grep -q 'already exists' || { echo "$out" >&2; exit 1; }
  fi
  sql --database "$db" setup-schema --version 0.0
  sql --database "$db" update-schema --schema-name "postgresql/v12/$schema"
  echo "database $db: schema up to date"
done
