"""Settings of the Pécule portal, read from the environment.

Every value has a development default so that `make run` works on a fresh machine
(SQLite, Celery tasks run in process). Production sets the environment variables
listed in docs/exploitation.md.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from portail.observabilite import (
    configurer_structlog,
    format_journaux,
    initialiser_sentry,
    journalisation,
)

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# "development" (the default: local run and tests), "production", or "demonstration": the
# production image and settings with the FranceConnect stand-in and the sandbox bank (the
# demo and CI stack, docker-compose.demo.yml); production refuses those (below).
PECULE_ENV = os.environ.get("PECULE_ENV", "development")
if PECULE_ENV not in {"development", "production", "demonstration"}:
    raise ImproperlyConfigured(
        f"PECULE_ENV vaut {PECULE_ENV!r} : development, production ou demonstration attendu."
    )
PRODUCTION = PECULE_ENV in {"production", "demonstration"}
DEBUG = env_bool("DJANGO_DEBUG", not PRODUCTION)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "" if PRODUCTION else "dev-only-insecure-key")
if PRODUCTION and (DEBUG or not SECRET_KEY):
    raise RuntimeError("In production DJANGO_SECRET_KEY must be set and DJANGO_DEBUG off.")

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")

# The reverse proxies in front of the portal (addresses or networks, comma-separated):
# from them only, X-Forwarded-For gives the client's address (portail.middleware) and
# X-Forwarded-Proto the scheme (gunicorn.conf.py reads the same variable). Empty: the
# peer is the client.
PECULE_PROXYS_DE_CONFIANCE = env_list("PECULE_PROXYS_DE_CONFIANCE", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_structlog",
    "health_check",
    "dsfr",
    "mozilla_django_oidc",
    "axes",
    "csp",
    "rest_framework",
    "drf_spectacular",
    "import_export",
    "socle",
    "regie",
    "comptes",
    "permis",
    "pecule",
    "portail",
]

MIDDLEWARE = [
    "portail.middleware.AdresseClientMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files straight from the image's STATIC_ROOT (hashed names, compressed, cached
    # for a year), without a web server in front; the development server serves its own.
    *(["whitenoise.middleware.WhiteNoiseMiddleware"] if PRODUCTION else []),
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_structlog.middlewares.RequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "portail.middleware.PolitiqueSecuriteMiddleware",
    "portail.middleware.Page404Middleware",
]

# Brute-force protection of the staff login (django-axes): 5 failures lock for 30 min.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.5
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_ONLY_ADMIN_SITE = True

ROOT_URLCONF = "portail.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dsfr.context_processors.site_config",
            ],
        },
    },
]

WSGI_APPLICATION = "portail.wsgi.application"

# SQLite is only the zero-install default of the local run; tests that touch money,
# concurrency or tasks run on PostgreSQL (DATABASE_URL=postgres://...).
# Production keeps each process's connection open (DATABASE_CONN_MAX_AGE seconds, checked
# before reuse): a new PostgreSQL connection per request cost more than the request.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "600" if PRODUCTION else "0")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Serialise writers instead of failing with "database is locked" under the dev server.
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
    # The refused notifications' aggregation key has a nullable column: PostgreSQL (the
    # real database) enforces it NULLS NOT DISTINCT; the local SQLite cannot, and says so.
    SILENCED_SYSTEM_CHECKS = ["models.W047"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "comptes.Utilisateur"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(os.environ.get("PECULE_MEDIA_ROOT", BASE_DIR / "var" / "media"))
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# A shared cache (Redis) in production: rate limits and throttles count across processes.
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["CACHE_URL"],
        }
        if "CACHE_URL" in os.environ
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

LOGIN_URL = "portail:accueil_public"

# FranceConnect v2 (spec 04-franceconnect.md). The defaults point at the local stand-in
# (oidc/, started by `make run` and by the tests); production sets the real issuer.
FRANCECONNECT_ISSUER = os.environ.get("FRANCECONNECT_ISSUER", "http://127.0.0.1:9090/api/v2")
FRANCECONNECT_ACR = "eidas1"
FRANCECONNECT_LEEWAY = int(os.environ.get("FRANCECONNECT_LEEWAY", "10"))
FRANCECONNECT_LOGOUT_URL = f"{FRANCECONNECT_ISSUER}/session/end"
OIDC_RP_CLIENT_ID = os.environ.get("FRANCECONNECT_CLIENT_ID", "pecule-local")
OIDC_RP_CLIENT_SECRET = os.environ.get(
    "FRANCECONNECT_CLIENT_SECRET",
    "" if PRODUCTION else "pecule-local-secret-please-change-0123456789",
)
OIDC_OP_AUTHORIZATION_ENDPOINT = f"{FRANCECONNECT_ISSUER}/authorize"
OIDC_OP_TOKEN_ENDPOINT = f"{FRANCECONNECT_ISSUER}/token"
OIDC_OP_USER_ENDPOINT = f"{FRANCECONNECT_ISSUER}/userinfo"
OIDC_OP_JWKS_ENDPOINT = f"{FRANCECONNECT_ISSUER}/jwks"
OIDC_RP_SIGN_ALGO = os.environ.get("FRANCECONNECT_SIGN_ALGO", "ES256")
OIDC_RP_SCOPES = "openid given_name family_name birthdate birthplace birthcountry email"
OIDC_AUTH_REQUEST_EXTRA_PARAMS = {"acr_values": FRANCECONNECT_ACR}
OIDC_USE_NONCE = True
OIDC_USE_PKCE = True
OIDC_PKCE_CODE_CHALLENGE_METHOD = "S256"
OIDC_STORE_ID_TOKEN = True
OIDC_TOKEN_USE_BASIC_AUTH = False
OIDC_CREATE_USER = True
OIDC_TIMEOUT = 10
OIDC_CALLBACK_CLASS = "comptes.views.RetourFranceConnect"
LOGIN_REDIRECT_URL = "/espace/"
LOGIN_REDIRECT_URL_FAILURE = "/connexion/erreur/"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "comptes.auth.FranceConnectBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Celery: Redis broker. Without CELERY_BROKER_URL, tasks run in process (local run).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "memory://")
CELERY_TASK_ALWAYS_EAGER = env_bool(
    "CELERY_TASK_ALWAYS_EAGER", "CELERY_BROKER_URL" not in os.environ
)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 100
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing must not hang when Redis is down: the inbox keeps the work and the periodic
# sweeps queue it again.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# visibility_timeout: a task taken by a worker that dies is delivered again after this
# long; it must exceed the longest retry delay (300 s) plus the time limit (120 s).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "900")),
}
CELERY_TASK_PUBLISH_RETRY = False
# Task modules beside the apps' own `tasks` modules (found by autodiscovery).
CELERY_IMPORTS = ["pecule.releves.tasks"]
CELERY_BEAT_SCHEDULE = {
    "relancer-releves": {"task": "pecule.releves.tasks.relancer_releves", "schedule": 300.0},
    "supprimer-releves-expires": {
        "task": "pecule.releves.tasks.supprimer_releves_expires",
        "schedule": 3600.0,
    },
    "relancer-notifications": {"task": "pecule.tasks.relancer_notifications", "schedule": 60.0},
    "verifier-virements": {"task": "pecule.tasks.verifier_virements_en_cours", "schedule": 30.0},
    "envoyer-courriels": {"task": "pecule.tasks.envoyer_courriels", "schedule": 60.0},
    "supprimer-rejets": {"task": "pecule.tasks.supprimer_rejets", "schedule": 3600.0},
    "supprimer-sessions-expirees": {
        "task": "portail.tasks.supprimer_sessions_expirees",
        "schedule": 3600.0,
    },
    "alerter-virements-sans-releve": {
        "task": "pecule.tasks.alerter_virements_sans_releve",
        "schedule": 24 * 3600.0,
    },
}

# Relatives' PDF statements: kept this many days after issue, then file and row deleted.
PECULE_RETENTION_RELEVES_JOURS = int(os.environ.get("PECULE_RETENTION_RELEVES_JOURS", "7"))
# The relatives the régie may name as a D.422 subsidy's sender (regie.emetteurs): the
# régie cannot import the apps that know them, so the project names the module here.
REGIE_ANNUAIRE_EMETTEURS = "pecule.emetteurs"
# The government's « Je donne mon avis » link, offered at the end of the journey (after
# « Confirmer »): the démarche's own address, from jedonnemonavis.numerique.gouv.fr's
# « Code à intégrer » tab once the démarche is registered there.
PECULE_URL_JE_DONNE_MON_AVIS = os.environ.get(
    "PECULE_URL_JE_DONNE_MON_AVIS", "https://jedonnemonavis.numerique.gouv.fr/"
)

# The victims' fund (FGTI, D. 332-22): its account prefills the release form, where the
# régisseur checks it against the fund's own instructions. No default in production: the
# fund's bank details come from the FGTI, never from this code. Outside production, a
# fictitious account (bank code 99905, assigned to no bank) for demos and tests.
PECULE_FGTI_NOM = os.environ.get(
    "PECULE_FGTI_NOM", "" if PRODUCTION else "FGTI (coordonnées de démonstration)"
)
PECULE_FGTI_IBAN = os.environ.get(
    "PECULE_FGTI_IBAN", "" if PRODUCTION else "FR7699905000010000000000139"
)
PECULE_FGTI_BIC = os.environ.get("PECULE_FGTI_BIC", "")
# The Trésor's account for the sums the texts pay it (escape L. 332-4, death D. 332-8,
# contrainte judiciaire D. 332-23): from the comptable assignataire's instructions in
# production; a fictitious one (bank code 99905) elsewhere.
PECULE_TRESOR_NOM = os.environ.get(
    "PECULE_TRESOR_NOM", "" if PRODUCTION else "Trésor public (coordonnées de démonstration)"
)
PECULE_TRESOR_IBAN = os.environ.get(
    "PECULE_TRESOR_IBAN", "" if PRODUCTION else "FR7699905000010000000000236"
)
PECULE_TRESOR_BIC = os.environ.get("PECULE_TRESOR_BIC", "")
# Refused notifications (aggregated per provider, reason, address and hour) are deleted
# this many days after the last one (pecule.tasks.supprimer_rejets).
PECULE_RETENTION_REJETS_JOURS = int(os.environ.get("PECULE_RETENTION_REJETS_JOURS", "30"))

# The inbox of notifications is processed by batches (pecule.services.boite): how many rows
# a batch takes, and how many provider calls (get_payment) a worker process makes at once.
PECULE_NOTIFICATIONS_PAR_LOT = int(os.environ.get("PECULE_NOTIFICATIONS_PAR_LOT", "50"))
PECULE_APPELS_FOURNISSEUR_SIMULTANES = int(
    os.environ.get("PECULE_APPELS_FOURNISSEUR_SIMULTANES", "16")
)

# Anonymous writes are limited per client address (socle.limites): a name, (number of
# requests, window in seconds). The defaults are beside each view; these override them.
PECULE_LIMITES_ANONYMES = {}

# Payment initiation providers (pecule.fournisseurs). The sandbox bank is a development
# tool (sandbox/); production names a licensed provider and its credentials.
PECULE_FOURNISSEUR_DEFAUT = os.environ.get("PECULE_FOURNISSEUR", "sandbox")
PECULE_FOURNISSEURS = {
    "sandbox": {
        "CLASSE": "pecule.fournisseurs.sandbox.FournisseurSandbox",
        "OPTIONS": {
            "url": os.environ.get("SANDBOX_BANQUE_URL", "http://127.0.0.1:9100"),
            "secret": os.environ.get(
                "SANDBOX_BANQUE_SECRET", "" if PRODUCTION else "sandbox-secret-de-developpement"
            ),
        },
    },
}
if os.environ.get("FINTECTURE_APP_ID"):
    # A real provider (docs/fournisseur-fintecture.md); PECULE_FOURNISSEUR=fintecture selects it.
    PECULE_FOURNISSEURS["fintecture"] = {
        "CLASSE": "pecule.fournisseurs.fintecture.FournisseurFintecture",
        "OPTIONS": {
            "app_id": os.environ["FINTECTURE_APP_ID"],
            "app_secret": os.environ.get("FINTECTURE_APP_SECRET", ""),
            "cle_privee": os.environ.get("FINTECTURE_CLE_PRIVEE", ""),
            "cle_privee_fichier": os.environ.get("FINTECTURE_CLE_PRIVEE_FICHIER", ""),
            "environnement": os.environ.get("FINTECTURE_ENVIRONNEMENT", "sandbox"),
        },
    }

EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend"
)
EMAIL_FILE_PATH = BASE_DIR / "var" / "emails"
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT") or "25")
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "ne-pas-repondre@pecule.justice.gouv.fr")

# Logs (portail/observabilite.py): JSON lines with request and task ids in production.
PECULE_JOURNAUX = format_journaux()
configurer_structlog()
LOGGING = journalisation(PECULE_JOURNAUX, os.environ.get("DJANGO_LOG_LEVEL", "INFO"))
DJANGO_STRUCTLOG_CELERY_ENABLED = True
DJANGO_STRUCTLOG_IP_LOGGING_ENABLED = False  # the attempt records keep what is needed

# Error reports, without personal data, only where SENTRY_DSN is set.
if os.environ.get("SENTRY_DSN"):
    initialiser_sentry(
        os.environ["SENTRY_DSN"],
        os.environ.get("SENTRY_ENVIRONMENT", PECULE_ENV),
        release=os.environ.get("PECULE_VERSION") or None,
    )

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# A form sent without its valid token: the French page (portail.views.formulaire_expire).
CSRF_FAILURE_VIEW = "portail.views.formulaire_expire"
if PRODUCTION:
    SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_THROTTLE_RATES": {"systeme_information": "600/min"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "API Pécule pour les systèmes d'information des établissements",
    "DESCRIPTION": "Permis de visite et situation des personnes détenues.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False
# No admin exports through import-export today (the CSV exports go through socle.exports);
# should one be added, its text cells are neutralised against formulas too.
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True

# A strict Content-Security-Policy with nonces on every public page; the admin gets its
# own policy below (portail.middleware.PolitiqueSecuriteMiddleware).
_FRANCECONNECT_ORIGINE = "/".join(FRANCECONNECT_ISSUER.split("/")[:3])
_ORIGINES_FOURNISSEURS = [
    # The sandbox bank's pages: never in production, which refuses the sandbox.
    *(
        []
        if PECULE_ENV == "production"
        else ["/".join(PECULE_FOURNISSEURS["sandbox"]["OPTIONS"]["url"].split("/")[:3])]
    ),
    *env_list("PECULE_CSP_ORIGINES_PAIEMENT", ""),  # e.g. https://connect.fintecture.com
]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        # Chrome applies form-action to the redirects that follow a form: the FranceConnect
        # button and the logout go on to FranceConnect, « Réaliser le virement » to the
        # payment provider's pages.
        "form-action": [SELF, _FRANCECONNECT_ORIGINE, *_ORIGINES_FOURNISSEURS],
    },
}

# The admin's policy: Django's admin, its widgets and our admin templates use script and
# style files only (no inline script, no eval, no style attribute; scripts change styles
# through the CSSOM, which the policy allows), so everything comes from this origin.
# (django-import-export's export page loses two cosmetic style attributes.)
CONTENT_SECURITY_POLICY_ADMIN = {
    "PREFIXE": "/admin/",
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}


# --- Production refuses development defaults ------------------------------------------------


def _hote_local(url: str) -> bool:
    hote = (urlsplit(url).hostname or "").lower()
    return hote in {"localhost", "::1", "0.0.0.0"} or hote.startswith("127.")  # noqa: S104


def erreurs_de_production(env) -> list[str]:
    """What keeps the portal from starting with PECULE_ENV=production: a missing variable
    or one that points at a development stand-in. One French sentence each, naming it."""
    erreurs = []
    issuer = env.get("FRANCECONNECT_ISSUER", "")
    if not issuer:
        erreurs.append("FRANCECONNECT_ISSUER n'est pas défini (l'adresse de FranceConnect).")
    elif _hote_local(issuer) or not issuer.startswith("https://"):
        erreurs.append(
            f"FRANCECONNECT_ISSUER désigne le bouchon local ou une adresse non https ({issuer})."
        )
    if env.get("FRANCECONNECT_CLIENT_ID", "pecule-local") == "pecule-local":
        erreurs.append("FRANCECONNECT_CLIENT_ID n'est pas défini ou est celui du bouchon local.")
    secret = env.get("FRANCECONNECT_CLIENT_SECRET", "")
    if not secret or secret == "pecule-local-secret-please-change-0123456789":  # noqa: S105
        erreurs.append("FRANCECONNECT_CLIENT_SECRET est vide, absent ou celui du bouchon local.")
    fournisseur = env.get("PECULE_FOURNISSEUR", "")
    if not fournisseur or fournisseur == "sandbox":
        erreurs.append(
            "PECULE_FOURNISSEUR n'est pas défini ou désigne la banque de test (sandbox)."
        )
    elif fournisseur == "fintecture" and not env.get("FINTECTURE_APP_ID"):
        erreurs.append("FINTECTURE_APP_ID n'est pas défini pour PECULE_FOURNISSEUR=fintecture.")
    for variable, role in (
        ("DATABASE_URL", "la base PostgreSQL"),
        ("CELERY_BROKER_URL", "Redis pour les tâches"),
        ("CACHE_URL", "Redis pour le cache partagé des limites"),
    ):
        if not env.get(variable):
            erreurs.append(f"{variable} n'est pas défini ({role}).")
    if env.get("DATABASE_URL", "").startswith("sqlite"):
        erreurs.append("DATABASE_URL désigne SQLite : PostgreSQL est requis.")
    return erreurs


if PECULE_ENV == "production" and (_erreurs := erreurs_de_production(os.environ)):
    raise ImproperlyConfigured(
        "PECULE_ENV=production refuse de démarrer :\n- " + "\n- ".join(_erreurs)
    )
