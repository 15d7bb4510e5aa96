#!/usr/bin/env bash
# Install what a new machine lacks for the test suite, and only that (called by `make test`).
#
# - Debian's chromium, which Playwright drives for the browser tests (no browser download
#   works here), when `chromium` is absent;
# - Node.js and npm for the FranceConnect stand-in, only when `node` is absent: Debian's
#   npm conflicts with a Node.js that is already installed (apt: "held broken packages");
# - faketime (libfaketime), with which CI runs the date-sensitive tests at chosen instants;
# - Python 3.11 with venv, when no python3.11 is found;
# - the libraries WeasyPrint loads to render PDFs (Pango, HarfBuzz's subsetter, which
#   WeasyPrint warns about, and the suite turns warnings into errors), when absent.
#
# As root it installs with apt; otherwise it only says what is missing and fails.
set -euo pipefail

paquets=()
command -v chromium >/dev/null 2>&1 || paquets+=(chromium)
command -v node >/dev/null 2>&1 || paquets+=(nodejs npm)
command -v faketime >/dev/null 2>&1 || paquets+=(faketime)
if ! command -v python3.11 >/dev/null 2>&1; then
    paquets+=(python3.11 python3.11-venv)
fi

for bibliotheque in libpango-1.0.so.0:libpango-1.0-0 libpangoft2-1.0.so.0:libpangoft2-1.0-0 \
    libharfbuzz-subset.so.0:libharfbuzz-subset0; do
    ldconfig -p | grep -q "${bibliotheque%%:*}" || paquets+=("${bibliotheque##*:}")
done

if [ ${#paquets[@]} -eq 0 ]; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "Missing for the tests: ${paquets[*]}. Install them (apt-get install -y ${paquets[*]}) or run make test as root." >&2
    exit 1
fi

echo "Installing what this machine lacks: ${paquets[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${paquets[@]}" >/dev/null
for commande in chromium node faketime; do
    command -v "$commande" >/dev/null 2>&1 || {
        echo "$commande is still missing after apt-get install" >&2
        exit 1
    }
done
ldconfig -p | grep -q libharfbuzz-subset.so.0 || {
    echo "libharfbuzz-subset0 is still missing after apt-get install" >&2
    exit 1
}
