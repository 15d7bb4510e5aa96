#!/usr/bin/env bash
# The one-command local run (make run): the FranceConnect stand-in, the sandbox bank,
# then the portal.
# SQLite, Celery tasks in process, demo data. Stops everything on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PORT="${PORT:-8000}"
export DJANGO_DEBUG=1

mkdir -p var
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

OIDC_JWKS_FILE="$PWD/var/oidc-jwks.json" node oidc/server.mjs &
pids+=($!)
SANDBOX_DB="$PWD/var/sandbox.sqlite3" \
    SANDBOX_NOTIFICATION_URL="http://127.0.0.1:${PORT}/paiements/notifications/sandbox/" \
    $PY -m sandbox &
pids+=($!)

$PY manage.py migrate --noinput
$PY manage.py donnees_demo --superutilisateur
$PY manage.py donnees_demo_permis
$PY manage.py donnees_demo_pecule
echo
echo "Portail : http://127.0.0.1:${PORT}/   Back-office : http://127.0.0.1:${PORT}/admin/"
echo "FranceConnect (bouchon local) : identifiants test / 123, martin / 123, heloise / 123"
echo "Banque de test : http://127.0.0.1:9100/ (identifiant demo, code 1234)"
$PY manage.py runserver "127.0.0.1:${PORT}"
