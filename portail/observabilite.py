"""Logs and error reports.

- Logs: one JSON object per line in production (`PECULE_JOURNAUX=json`), readable text
  in development. django-structlog gives each request a `request_id`, carried in the
  headers of the Celery tasks the request queues and bound again in the worker, so a
  relative's request and the tasks it caused share one id. The application's own
  `logging.getLogger(__name__)` records go through the same formatter, with the same ids.
- Errors: sentry-sdk, only when SENTRY_DSN is set, with no personal data: no user, no
  cookies, no request bodies, no local variables; values under personal keys are
  removed and anything shaped like an IBAN is masked, in events and breadcrumbs.
"""

import os
import re

import structlog
import structlog.tracebacks

# Processors applied to every record, structlog's and the standard library's alike.
_CHAINE_COMMUNE = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def format_journaux(env=None) -> str:
    """`json` or `texte`: PECULE_JOURNAUX, else JSON everywhere but in development. Read
    from the environment alone (settings, gunicorn.conf.py and the Celery app agree)."""
    env = os.environ if env is None else env
    defaut = "texte" if env.get("PECULE_ENV", "development") == "development" else "json"
    return env.get("PECULE_JOURNAUX") or defaut


def configurer_structlog() -> None:
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_CHAINE_COMMUNE,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def journalisation(format_journaux: str, niveau: str) -> dict:
    """The LOGGING setting: every record to stderr, as JSON (`json`) or as text."""
    if format_journaux == "json":
        rendu = [
            # Tracebacks as data, without local variables (they may hold personal data).
            structlog.processors.ExceptionRenderer(
                structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
            ),
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ]
    else:
        # Plain tracebacks: the same text whether `rich` is installed or not, and cheap
        # (rich renders each 404 and 403 traceback in about a second).
        rendu = [
            structlog.dev.ConsoleRenderer(
                colors=False, exception_formatter=structlog.dev.plain_traceback
            )
        ]
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "pecule": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    *rendu,
                ],
                "foreign_pre_chain": [*_CHAINE_COMMUNE, structlog.stdlib.ExtraAdder()],
            }
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "pecule"}},
        "root": {"handlers": ["console"], "level": niveau},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            # gunicorn's own loggers propagate here (gunicorn.conf.py): one format.
            "gunicorn.error": {"level": niveau, "handlers": [], "propagate": True},
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": True},
        },
    }


# --- Sentry -----------------------------------------------------------------------------------

# Keys whose values never leave: the FranceConnect identity, bank details, contact data.
CLES_PERSONNELLES = [
    "sub",
    "fc_sub",
    "given_name",
    "family_name",
    "birthdate",
    "birthplace",
    "birthcountry",
    "preferred_username",
    "gender",
    "email",
    "fc_given_name",
    "fc_family_name",
    "fc_birthdate",
    "fc_birthplace",
    "fc_birthcountry",
    "nom",
    "prenoms",
    "date_naissance",
    "titulaire_nom",
    "titulaire_prenoms",
    "titulaire_date_naissance",
    "iban",
    "regie_iban",
    "iban_debiteur",
    "bic",
    "id_token",
    "access_token",
    "code",
    "state",
    "nonce",
    "jeton",
]
# An IBAN, with or without its groups of four (FR76 3000 6000 0112 3456 7890 189).
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}\b")
MASQUE = "[Filtered]"


def _masquer(valeur):
    if isinstance(valeur, str):
        return IBAN.sub(MASQUE, valeur)
    if isinstance(valeur, dict):
        return {cle: _masquer(v) for cle, v in valeur.items()}
    if isinstance(valeur, list | tuple):
        return [_masquer(v) for v in valeur]
    return valeur


def nettoyer_evenement(evenement: dict, _indice=None) -> dict:
    """before_send: keep the request's method and path, nothing the relative sent or
    is; mask IBANs anywhere."""
    evenement.pop("user", None)
    requete = evenement.get("request")
    if isinstance(requete, dict):
        for cle in ("cookies", "data", "query_string", "env"):
            requete.pop(cle, None)
        if isinstance(requete.get("url"), str):
            requete["url"] = requete["url"].split("?", 1)[0]
        requete["headers"] = {
            cle: valeur
            for cle, valeur in (requete.get("headers") or {}).items()
            if cle.lower() in {"host", "user-agent", "accept", "content-type"}
        }
    return _masquer(evenement)


def nettoyer_fil(fil: dict, _indice=None) -> dict:
    """before_breadcrumb: the same masking for the trail of log lines and queries."""
    return _masquer(fil)


def initialiser_sentry(dsn: str, environnement: str, **options) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.scrubber import DEFAULT_DENYLIST, EventScrubber

    sentry_sdk.init(
        dsn=dsn,
        environment=environnement,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        event_scrubber=EventScrubber(
            denylist=[*DEFAULT_DENYLIST, *CLES_PERSONNELLES], recursive=True
        ),
        before_send=nettoyer_evenement,
        before_breadcrumb=nettoyer_fil,
        traces_sample_rate=0.0,
        **options,
    )
