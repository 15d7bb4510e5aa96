"""gunicorn's settings for the portal (read from the working directory, /app in the image).

Everything comes from the environment so that one variable names the reverse proxies for
gunicorn and Django alike: PECULE_PROXYS_DE_CONFIANCE (addresses or networks) is both
gunicorn's forwarded_allow_ips (X-Forwarded-Proto sets the scheme) and the list from which
portail.middleware.AdresseClientMiddleware reads X-Forwarded-For. Logs go through Django's
LOGGING (JSON lines in production); no access log: django-structlog logs every request
with its request id."""

import os

from portail.observabilite import format_journaux, journalisation

bind = [os.environ.get("PECULE_GUNICORN_BIND", "127.0.0.1:8000")]
workers = int(os.environ.get("PECULE_GUNICORN_WORKERS", "3"))
timeout = int(os.environ.get("PECULE_GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
# Empty: nobody may set the forwarding headers (gunicorn's own default trusts 127.0.0.1).
forwarded_allow_ips = os.environ.get("PECULE_PROXYS_DE_CONFIANCE", "").strip()
# Only the proxies named above may set these; anyone else's are ignored.
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}
accesslog = None
# gunicorn's own messages in the portal's format.
logconfig_dict = journalisation(format_journaux(), os.environ.get("DJANGO_LOG_LEVEL", "INFO"))
# No control socket (it would be written under $HOME); signals do the same job.
control_socket_disable = True
# Worker heartbeat files in memory, not on the container's layered disk.
_SHM = "/dev/shm"  # noqa: S108 - a memory file system, not a shared temporary folder
worker_tmp_dir = _SHM if os.path.isdir(_SHM) else None
