#!/bin/sh
# First start: create the cluster, the role and the database from POSTGRES_USER,
# POSTGRES_PASSWORD and POSTGRES_DB (scram-sha-256 for every TCP connection). Then run
# the command (postgres and its options).
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required}"
    utilisateur="${POSTGRES_USER:-postgres}"
    fichier_mdp="$(mktemp)"
    printf '%s\n' "$POSTGRES_PASSWORD" > "$fichier_mdp"
    initdb --username="$utilisateur" --pwfile="$fichier_mdp" --auth-local=trust \
        --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 -D "$PGDATA" >/dev/null
    rm -f "$fichier_mdp"
    base="${POSTGRES_DB:-$utilisateur}"
    if [ "$base" != "postgres" ]; then
        postgres --single -D "$PGDATA" postgres >/dev/null <<SQL
CREATE DATABASE "$base" OWNER "$utilisateur";
SQL
    fi
fi
exec "$@"
