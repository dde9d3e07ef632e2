#!/usr/bin/env bash
# Runs once, on an empty data volume (postgres image: /docker-entrypoint-initdb.d).
# Makes one login role per service with its password from the environment, and one schema
# per service owned by that role, in the database POSTGRES_DB (convene) the image created.
# Passwords are passed as psql variables (:'name' quotes them), never pasted into SQL text.
set -euo pipefail

psql --no-psqlrc -v ON_ERROR_STOP=1 \
    --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v db="$POSTGRES_DB" \
    -v profiles_password="${CONVENE_PROFILES_DB_PASSWORD:?}" \
    -v matcher_password="${CONVENE_MATCHER_DB_PASSWORD:?}" \
    -v gateway_password="${CONVENE_GATEWAY_DB_PASSWORD:?}" <<'SQL'
CREATE ROLE convene_profiles LOGIN PASSWORD :'profiles_password';
CREATE ROLE convene_matcher LOGIN PASSWORD :'matcher_password';
CREATE ROLE convene_gateway LOGIN PASSWORD :'gateway_password';

REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO convene_profiles, convene_matcher, convene_gateway;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

CREATE SCHEMA profiles AUTHORIZATION convene_profiles;
CREATE SCHEMA matcher AUTHORIZATION convene_matcher;
CREATE SCHEMA gateway AUTHORIZATION convene_gateway;
REVOKE ALL ON SCHEMA profiles, matcher, gateway FROM PUBLIC;
SQL
