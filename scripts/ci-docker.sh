#!/usr/bin/env bash
# CI's docker stage (called by .ci/run; `make docker` runs it alone): the production stack
# built and started from local images, then a relative's journey played against it from
# outside (scripts/parcours_fumee.py). See docs/exploitation.md.
#
#  1. installs what is missing: docker.io (dockerd), debootstrap, docker-compose;
#  2. starts a Docker daemon of its own (own socket, data and exec roots under a temporary
#     folder; --iptables=false --ip6tables=false --bridge=none: containers use the host's
#     network), unless DOCKER_HOST names one to use;
#  3. makes a Debian bookworm base image with debootstrap (no image registry is reachable),
#     with this machine's certificate authorities for pip and npm;
#  4. builds the portal's image once (on that base), the stand-ins' image, and PostgreSQL
#     and Redis images from Debian's packages;
#  5. starts docker-compose.yml + docker-compose.demo.yml, waits until every service is
#     healthy (the jobs: exited 0), runs the smoke journey;
#  6. always: saves the logs under test-artifacts/docker/, removes the stack (containers,
#     volumes, network), the images, stops the daemon it started and deletes its folder.
#
# It fails, never skips, when Docker cannot run. Ports (127.0.0.1) can be changed with
# PECULE_CI_PORT_WEB, _POSTGRES, _REDIS, _FRANCECONNECT, _BANQUE.
set -euo pipefail
cd "$(dirname "$0")/.."
RACINE="$PWD"
debut=$(date +%s)
jalon() { echo "[docker $(($(date +%s) - debut)) s] $*"; }

# --- 1. What this machine lacks --------------------------------------------------------------
paquets=()
command -v dockerd >/dev/null 2>&1 && [ -x /usr/bin/docker ] || paquets+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || paquets+=(debootstrap)
command -v docker-compose >/dev/null 2>&1 || paquets+=(docker-compose)
if [ ${#paquets[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "Missing for the docker stage: ${paquets[*]} (apt-get install -y ${paquets[*]}, as root)." >&2
        exit 1
    fi
    jalon "installing ${paquets[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${paquets[@]}" >/dev/null
fi
# Debian's client, of the daemon's version (another `docker` earlier in PATH may be newer).
DOCKER=/usr/bin/docker
[ -x .venv/bin/python ] || make install

# --- 2. A daemon ---------------------------------------------------------------------------------
TMP="$(mktemp -d /tmp/pecule-ci-docker.XXXXXX)"
SUFFIXE="ci$$"
PROJET="pecule-${SUFFIXE}"
IMAGE_BASE="pecule-base:${SUFFIXE}"
IMAGE_PECULE="pecule:${SUFFIXE}"
IMAGE_BOUCHONS="pecule-bouchons:${SUFFIXE}"
IMAGE_POSTGRES="pecule-postgres:${SUFFIXE}"
IMAGE_REDIS="pecule-redis:${SUFFIXE}"
DOCKERD_PID=""
COMPOSE=()
ARTEFACTS="$RACINE/test-artifacts/docker"
mkdir -p "$ARTEFACTS"

nettoyer() {
    local statut=$?
    set +e
    trap - EXIT INT TERM
    if [ ${#COMPOSE[@]} -gt 0 ]; then
        "${COMPOSE[@]}" ps >"$ARTEFACTS/ps.txt" 2>&1
        "${COMPOSE[@]}" logs --no-color >"$ARTEFACTS/journaux.txt" 2>&1
        if [ $statut -ne 0 ]; then
            echo "--- last lines of the stack's logs ($ARTEFACTS/journaux.txt) ---"
            tail -n 60 "$ARTEFACTS/journaux.txt"
        fi
        "${COMPOSE[@]}" down --volumes --remove-orphans --timeout 20 >/dev/null 2>&1
    fi
    if [ -n "${DOCKER_HOST:-}" ] && $DOCKER info >/dev/null 2>&1; then
        $DOCKER rmi -f "$IMAGE_BOUCHONS" "$IMAGE_PECULE" "$IMAGE_POSTGRES" "$IMAGE_REDIS" \
            "$IMAGE_BASE" >/dev/null 2>&1
        restes="$($DOCKER ps -aq --filter "label=com.docker.compose.project=$PROJET")"
        restes+="$($DOCKER volume ls -q --filter "label=com.docker.compose.project=$PROJET")"
        restes+="$($DOCKER network ls -q --filter "label=com.docker.compose.project=$PROJET")"
        if [ -n "$restes" ]; then
            echo "The docker stage left objects behind: $restes" >&2
            statut=1
        fi
    fi
    if [ -n "$DOCKERD_PID" ]; then
        kill "$DOCKERD_PID" 2>/dev/null
        for _ in $(seq 1 30); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 1; done
        kill -9 "$DOCKERD_PID" 2>/dev/null
        # What the daemon mounted and may leave mounted: its network namespace, its layers.
        umount "$TMP/exec/netns/"* 2>/dev/null
        umount -R "$TMP/racine" 2>/dev/null
    fi
    rm -rf "$TMP"
    jalon "cleaned up (exit $statut)"
    exit $statut
}
trap nettoyer EXIT INT TERM

if [ -z "${DOCKER_HOST:-}" ]; then
    mkdir -p "$TMP/racine" "$TMP/exec"
    dockerd --host "unix://$TMP/docker.sock" --data-root "$TMP/racine" --exec-root "$TMP/exec" \
        --pidfile "$TMP/dockerd.pid" --iptables=false --ip6tables=false --bridge=none \
        >"$ARTEFACTS/dockerd.log" 2>&1 &
    DOCKERD_PID=$!
    export DOCKER_HOST="unix://$TMP/docker.sock"
    for _ in $(seq 1 60); do
        $DOCKER info >/dev/null 2>&1 && break
        kill -0 "$DOCKERD_PID" 2>/dev/null || break
        sleep 0.5
    done
fi
if ! $DOCKER info >/dev/null 2>&1; then
    if [ -n "$DOCKERD_PID" ]; then
        echo "Docker cannot run here: the daemon did not start (see $ARTEFACTS/dockerd.log)." >&2
        tail -n 20 "$ARTEFACTS/dockerd.log" >&2 || true
    else
        echo "Docker cannot run here: no daemon answers at DOCKER_HOST=$DOCKER_HOST." >&2
    fi
    exit 1
fi
jalon "daemon ready ($($DOCKER version --format '{{.Server.Version}}'))"

# --- 3. The base image ---------------------------------------------------------------------------
MIROIR="${PECULE_CI_MIROIR_DEBIAN:-http://deb.debian.org/debian}"
debootstrap --variant=minbase bookworm "$TMP/base" "$MIROIR" >"$ARTEFACTS/debootstrap.log" 2>&1 || {
    tail -n 20 "$ARTEFACTS/debootstrap.log" >&2
    exit 1
}
cat >"$TMP/base/etc/apt/sources.list" <<EOF
deb $MIROIR bookworm main
deb $MIROIR bookworm-updates main
deb ${MIROIR%/debian}/debian-security bookworm-security main
EOF
# This machine's own certificate authorities (a proxy may stand between it and PyPI).
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    mkdir -p "$TMP/base/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$TMP/base/usr/local/share/ca-certificates/"
fi
rm -rf "$TMP"/base/var/cache/apt/archives/*.deb "$TMP"/base/var/lib/apt/lists/*
tar -C "$TMP/base" -c . | $DOCKER import - "$IMAGE_BASE" >/dev/null
rm -rf "$TMP/base"
jalon "base image $IMAGE_BASE (debootstrap)"

# --- 4. The images -------------------------------------------------------------------------------
construire() {
    local journal="$ARTEFACTS/build-$1.log"
    shift
    if ! DOCKER_BUILDKIT=0 $DOCKER build --network host --force-rm "$@" "$RACINE" >"$journal" 2>&1; then
        tail -n 40 "$journal" >&2
        return 1
    fi
}
# PostgreSQL and Redis (mostly downloads) beside the portal's image (mostly CPU).
construire postgres --build-arg BASE_IMAGE="$IMAGE_BASE" -f docker/postgres.Dockerfile -t "$IMAGE_POSTGRES" &
pid_postgres=$!
construire redis --build-arg BASE_IMAGE="$IMAGE_BASE" -f docker/redis.Dockerfile -t "$IMAGE_REDIS" &
pid_redis=$!
construire pecule --build-arg BASE_IMAGE="$IMAGE_BASE" -t "$IMAGE_PECULE"
jalon "portal image $IMAGE_PECULE"
construire bouchons --build-arg IMAGE_PECULE="$IMAGE_PECULE" -f docker/bouchons.Dockerfile -t "$IMAGE_BOUCHONS"
wait $pid_postgres
wait $pid_redis
jalon "images built: $($DOCKER images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep ":$SUFFIXE" | tr '\n' ' ')"
# The production image carries no development tool.
if $DOCKER run --rm --network host "$IMAGE_PECULE" python -c "import pytest" 2>/dev/null \
    || $DOCKER run --rm --network host "$IMAGE_PECULE" python -c "import flask" 2>/dev/null \
    || $DOCKER run --rm --network host "$IMAGE_PECULE" python -c "import playwright" 2>/dev/null; then
    echo "The production image carries development packages." >&2
    exit 1
fi
[ "$($DOCKER run --rm --network host "$IMAGE_PECULE" id -u)" != 0 ] || {
    echo "The production image runs as root." >&2
    exit 1
}

# --- 5. The stack and the journey ---------------------------------------------------------------
PORT_WEB="${PECULE_CI_PORT_WEB:-8080}"
PORT_POSTGRES="${PECULE_CI_PORT_POSTGRES:-55432}"
PORT_REDIS="${PECULE_CI_PORT_REDIS:-56379}"
PORT_FRANCECONNECT="${PECULE_CI_PORT_FRANCECONNECT:-59090}"
PORT_BANQUE="${PECULE_CI_PORT_BANQUE:-59100}"
for port in "$PORT_WEB" "$PORT_POSTGRES" "$PORT_REDIS" "$PORT_FRANCECONNECT" "$PORT_BANQUE"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "Port $port on 127.0.0.1 is taken: set PECULE_CI_PORT_* to free ports." >&2
        exit 1
    fi
done
aleatoire() { head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c "$1"; }
SECRET_BANQUE="$(aleatoire 32)"
ENV_FILE="$TMP/pecule.env"
# The documented env file (pecule.env.exemple), filled for this run.
cat >"$ENV_FILE" <<EOF
PECULE_IMAGE=$IMAGE_PECULE
PECULE_IMAGE_BOUCHONS=$IMAGE_BOUCHONS
PECULE_IMAGE_POSTGRES=$IMAGE_POSTGRES
PECULE_IMAGE_REDIS=$IMAGE_REDIS
PECULE_PORT_WEB=$PORT_WEB
PECULE_PORT_POSTGRES=$PORT_POSTGRES
PECULE_PORT_REDIS=$PORT_REDIS
PECULE_PORT_FRANCECONNECT=$PORT_FRANCECONNECT
PECULE_PORT_BANQUE=$PORT_BANQUE
POSTGRES_PASSWORD=$(aleatoire 24)
PECULE_ENV=production
DJANGO_SECRET_KEY=$(aleatoire 50)
DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost
PECULE_PROXYS_DE_CONFIANCE=127.0.0.1
PECULE_GUNICORN_WORKERS=2
PECULE_JOURNAUX=json
SANDBOX_BANQUE_SECRET=$SECRET_BANQUE
EOF
export PECULE_ENV_FILE="$ENV_FILE"
COMPOSE=(docker-compose -p "$PROJET" --env-file "$ENV_FILE" -f docker-compose.yml -f docker-compose.demo.yml)
"${COMPOSE[@]}" config -q
jalon "starting the stack ($PROJET)"
"${COMPOSE[@]}" up -d --no-build 2>&1 | sed 's/^/  /'

# Every service healthy; the jobs (migrate, donnees-demo) exited 0.
en_bonne_sante() {
    local id etat
    for id in $("${COMPOSE[@]}" ps -q); do
        etat="$($DOCKER inspect -f '{{.Name}} {{.State.Status}} {{.State.ExitCode}} {{if .State.Health}}{{.State.Health.Status}}{{else}}-{{end}}' "$id")"
        case "$etat" in
            *" running 0 healthy") ;;
            *" exited 0 -") ;;
            *" exited "*) echo "$etat" >&2; return 2 ;;
            *) return 1 ;;
        esac
    done
}
fin=$((SECONDS + 240))
until en_bonne_sante; do
    [ $? -eq 2 ] && { echo "A service stopped." >&2; exit 1; }
    if [ $SECONDS -gt $fin ]; then
        "${COMPOSE[@]}" ps >&2
        echo "The stack was not healthy within 240 s." >&2
        exit 1
    fi
    sleep 2
done
"${COMPOSE[@]}" ps
jalon "stack healthy"

.venv/bin/python scripts/parcours_fumee.py \
    --web "http://127.0.0.1:$PORT_WEB" \
    --franceconnect "http://127.0.0.1:$PORT_FRANCECONNECT/api/v2" \
    --banque "http://127.0.0.1:$PORT_BANQUE" \
    --secret-banque "$SECRET_BANQUE" \
    --compose "${COMPOSE[*]}"
jalon "smoke journey passed"
