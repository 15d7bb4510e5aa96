# The portal's one image: web (gunicorn), Celery worker and Celery beat all run from it
# (docker-compose.yml). Production dependencies only, installed from requirements/prod.txt
# with --require-hashes; static files collected at build and served by whitenoise.
#
#   docker build -t pecule .                                  (python:3.11-slim-bookworm)
#   docker build --build-arg BASE_IMAGE=pecule-base:bookworm -t pecule .   (CI: a Debian
#   bookworm made with debootstrap, scripts/ci-docker.sh; Python comes from Debian then)
ARG BASE_IMAGE=python:3.11-slim-bookworm

# The sources without what production does not run (tests, stand-ins, docs, CI).
FROM ${BASE_IMAGE} AS sources
WORKDIR /src
COPY . .
RUN rm -rf tests bench docs oidc sandbox scripts docker .ci requirements \
        Dockerfile docker-compose*.yml .dockerignore .gitignore pecule.env.exemple

FROM ${BASE_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PECULE_MEDIA_ROOT=/app/media

# WeasyPrint needs Pango (fonts for the PDFs are the portal's own, under static/); Python
# 3.11 comes with the python image, from Debian on a plain Debian base.
RUN set -eux; \
    paquets="libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core ca-certificates"; \
    command -v python3.11 >/dev/null || paquets="$paquets python3.11 python3.11-venv"; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $paquets; \
    rm -rf /var/lib/apt/lists/*; \
    python3.11 -m venv /opt/venv; \
    useradd --system --uid 10001 --user-group --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin pecule

# pip (and npm in the stand-ins' image) trust the system's certificates, which on a
# locally made base include the build machine's own authorities.
ARG PIP_CERT=/etc/ssl/certs/ca-certificates.crt
COPY requirements/prod.txt /tmp/prod.txt
RUN pip install --no-deps --require-hashes -r /tmp/prod.txt && rm /tmp/prod.txt

WORKDIR /app
COPY --from=sources /src /app
# Static files: hashed names and compressed copies, served by whitenoise. The media
# folder is the volume shared by web and worker (the PDF statements).
RUN PECULE_ENV=demonstration DJANGO_SECRET_KEY=collectstatic \
        python manage.py collectstatic --noinput -v 0 \
    && mkdir -p /app/media /app/var \
    && chown pecule:pecule /app/media /app/var

USER pecule
EXPOSE 8000
# gunicorn.conf.py: bind, workers, trusted proxies, logs (all from the environment).
CMD ["gunicorn", "portail.wsgi:application"]
