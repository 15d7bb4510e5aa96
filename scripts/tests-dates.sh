#!/usr/bin/env bash
# The date-sensitive part of the suite again, with the whole machine's clock moved by
# libfaketime (the test process, the Celery workers, the stand-ins and the browser all see
# the same instant) to the three instants in Europe/Paris where dates go wrong:
#   - 31 December 23:30: still December (400 € allowance), 22:30 UTC;
#   - 1 January 00:30: already the new month and year in Paris, still 31 December in UTC;
#   - 03:30 on the night clocks go forward (last Sunday of March): 01:30 UTC.
# The clock keeps running from there. Each run uses another time zone for the processes
# (UTC, then Europe/Paris), so that nothing depends on the machine's own zone either.
#
# Usage: scripts/tests-dates.sh [pytest arguments], DATABASE_URL set (make test-dates does).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v faketime >/dev/null || { echo "faketime is missing (make prerequis)" >&2; exit 1; }

DOSSIERS=(tests/regie tests/pecule tests/documents tests/permis)
INSTANTS=(
    "UTC|2026-12-31 23:30"
    "Europe/Paris|2027-01-01 00:30"
    "UTC|2027-03-28 03:30"
)
echecs=()
for entree in "${INSTANTS[@]}"; do
    fuseau="${entree%%|*}"
    instant="${entree#*|}"
    echo "=== $instant (Europe/Paris), processes in TZ=$fuseau ==="
    if ! TZ="$fuseau" faketime "TZ=\"Europe/Paris\" $instant" \
        .venv/bin/pytest -p no:cacheprovider -q "${DOSSIERS[@]}" "$@"; then
        echecs+=("$instant")
    fi
done
if [ ${#echecs[@]} -gt 0 ]; then
    echo "Date-sensitive tests failed at: ${echecs[*]}" >&2
    exit 1
fi
