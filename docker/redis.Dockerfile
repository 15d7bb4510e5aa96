# Redis from Debian, for the stack where no image registry is reachable (CI, see
# scripts/ci-docker.sh); used like the official redis:7 image (`redis-server ARGS`, /data).
ARG BASE_IMAGE=pecule-base:bookworm
FROM ${BASE_IMAGE}
RUN set -eux; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server; \
    rm -rf /var/lib/apt/lists/*; \
    mkdir -p /data; chown redis:redis /data
WORKDIR /data
USER redis
CMD ["redis-server"]
