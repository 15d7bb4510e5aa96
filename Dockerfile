# The portal's image: web (gunicorn), Celery worker and beat all run from it.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
# WeasyPrint needs Pango; fonts for the PDFs come from the installed packages.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.lock .
RUN pip install -r requirements.lock
COPY . .
RUN useradd --system --home /app pecule && mkdir -p /app/var && chown pecule /app/var
USER pecule
RUN PECULE_ENV=development python manage.py collectstatic --noinput

EXPOSE 8000
CMD ["gunicorn", "portail.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
