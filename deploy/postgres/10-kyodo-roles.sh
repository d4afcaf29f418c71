#!/bin/sh
# Runs once, when the postgres container initialises an empty data directory.
#
# Two roles, so the running service holds as little power as possible:
#   kyodo_owner  owns the database and its tables; only `kyodo migrate` connects as it.
#   kyodo_app    what `kyodo serve` and `kyodo worker` connect as: owns nothing, is no superuser
#                and cannot bypass row-level security. The migration grants it table privileges
#                (and would create it NOLOGIN if it were missing); here it gets LOGIN and a password.
# Written to be re-runnable, so the test suite can run it against its own PostgreSQL.
set -eu

psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v db="$POSTGRES_DB" \
  -v owner_password="$KYODO_OWNER_PASSWORD" \
  -v app_password="$KYODO_APP_PASSWORD" <<'SQL'
SELECT 'CREATE ROLE kyodo_owner' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'kyodo_owner')
\gexec
SELECT 'CREATE ROLE kyodo_app' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'kyodo_app')
\gexec
ALTER ROLE kyodo_owner WITH LOGIN PASSWORD :'owner_password'
  NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
ALTER ROLE kyodo_app WITH LOGIN PASSWORD :'app_password'
  NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
-- The database owner also owns schema public (pg_database_owner), so migrations can create there.
ALTER DATABASE :"db" OWNER TO kyodo_owner;
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO kyodo_app;
SQL
