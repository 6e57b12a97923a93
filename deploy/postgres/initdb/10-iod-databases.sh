#!/usr/bin/env bash
# Runs once, when the postgres container initialises an EMPTY data volume (the official
# image runs /docker-entrypoint-initdb.d/* then). Later password changes are made with
# ALTER ROLE, not here: see docs/deployment.md.
#
# Creates least-privileged roles and their databases:
#   iod       owns the database iod                              (the platform: api, worker, migrate)
#   temporal  owns the databases temporal and temporal_visibility (the Temporal server)
# Neither is a superuser, and each database refuses connections from the other role.
#
# Not `set -u`: the image's entrypoint sources this file when it is not executable.
set -eo pipefail

if [ -z "${APP_DB_PASSWORD}" ] || [ -z "${TEMPORAL_DB_PASSWORD}" ]; then
    echo "APP_DB_PASSWORD and TEMPORAL_DB_PASSWORD must be set" >&2
    exit 1
fi

psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" --dbname postgres \
    --set app_user="${APP_DB_USER:-iod}" \
    --set app_db="${APP_DB_NAME:-iod}" \
    --set app_password="${APP_DB_PASSWORD}" \
    --set temporal_user="${TEMPORAL_DB_USER:-temporal}" \
    --set temporal_db="${TEMPORAL_DB_NAME:-temporal}" \
    --set temporal_visibility_db="${TEMPORAL_VISIBILITY_DB_NAME:-temporal_visibility}" \
    --set temporal_password="${TEMPORAL_DB_PASSWORD}" <<'SQL'
CREATE ROLE :"app_user" LOGIN PASSWORD :'app_password';
CREATE DATABASE :"app_db" OWNER :"app_user";
REVOKE ALL ON DATABASE :"app_db" FROM PUBLIC;

-- Temporal's auto-setup only creates the schemas (SKIP_DB_CREATE=true), so its role
-- needs no CREATEDB; as owner it may create the trusted extension btree_gin that the
-- visibility schema uses.
CREATE ROLE :"temporal_user" LOGIN PASSWORD :'temporal_password';
CREATE DATABASE :"temporal_db" OWNER :"temporal_user";
CREATE DATABASE :"temporal_visibility_db" OWNER :"temporal_user";
REVOKE ALL ON DATABASE :"temporal_db" FROM PUBLIC;
REVOKE ALL ON DATABASE :"temporal_visibility_db" FROM PUBLIC;
SQL
