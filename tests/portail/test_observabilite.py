"""Health, logs and error reports (issue 14): /sante/, JSON log lines with a request id
carried into the Celery tasks a request queues, Sentry without personal data."""

import io
import json
import logging
import logging.config
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import structlog
from celery.signals import before_task_publish

from portail.observabilite import journalisation

RACINE = Path(__file__).resolve().parents[2]
IBAN = "FR7630006000011234567890189"
IBAN_GROUPES = "FR76 3000 6000 0112 3456 7890 189"


# --- /sante/ ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_sante_sans_broker(client):
    """The local run (tasks in process): the database and the media disk."""
    reponse = client.get("/sante/?format=json")
    assert reponse.status_code == 200, reponse.content
    resultats = reponse.json()
    assert set(resultats.values()) == {"OK"}
    assert any(nom.startswith("Database") for nom in resultats)
    assert "DisqueMedias()" in resultats
    assert reponse.headers["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_sante_signale_un_disque_de_medias_inutilisable(client, settings, tmp_path):
    fichier = tmp_path / "pas-un-dossier"
    fichier.write_text("")
    settings.MEDIA_ROOT = fichier / "medias"
    reponse = client.get("/sante/?format=json")
    assert reponse.status_code == 500
    assert "Media not writable" in reponse.json()["DisqueMedias()"]


# --- JSON logs ------------------------------------------------------------------------------------


def _journal_json():
    """The production formatter (settings.LOGGING with PECULE_JOURNAUX=json) on a buffer."""
    tampon = io.StringIO()
    config = journalisation("json", "INFO")
    formateur = logging.config.DictConfigurator(config).configure_custom(
        dict(config["formatters"]["pecule"])
    )
    gestionnaire = logging.StreamHandler(tampon)
    gestionnaire.setFormatter(formateur)
    return tampon, gestionnaire


@pytest.mark.django_db
def test_chaque_requete_est_une_ligne_json_avec_son_request_id(client):
    tampon, gestionnaire = _journal_json()
    racine = logging.getLogger()
    racine.addHandler(gestionnaire)
    try:
        client.get("/contact/")
        logging.getLogger("pecule.test").info("hors requête")
    finally:
        racine.removeHandler(gestionnaire)
    lignes = [json.loads(ligne) for ligne in tampon.getvalue().splitlines()]
    debut = next(ligne for ligne in lignes if ligne["event"] == "request_started")
    fin = next(ligne for ligne in lignes if ligne["event"] == "request_finished")
    assert debut["request_id"] == fin["request_id"] and fin["code"] == 200
    assert fin["request"] == "GET /contact/" and "timestamp" in fin and fin["level"] == "info"
    assert "ip" not in fin
    hors = next(ligne for ligne in lignes if ligne["event"] == "hors requête")
    assert "request_id" not in hors and hors["logger"] == "pecule.test"


def test_le_request_id_part_avec_les_taches_qu_elle_met_en_file():
    """django-structlog puts the request's context in the headers of each task it
    publishes; the worker binds it again (docker stage: same request_id in both logs)."""
    from portail.celery import app

    entetes = {}

    def noter(headers=None, **_kwargs):
        entetes.update(headers or {})

    before_task_publish.connect(noter)
    structlog.contextvars.bind_contextvars(request_id="req-123")
    eager, app.conf.task_always_eager = app.conf.task_always_eager, False
    try:
        with app.connection_for_write("memory://") as connexion:
            app.send_task("pecule.tasks.envoyer_courriels", connection=connexion)
    finally:
        app.conf.task_always_eager = eager
        structlog.contextvars.clear_contextvars()
        before_task_publish.disconnect(noter)
    assert entetes["__django_structlog__"]["request_id"] == "req-123"


# --- Sentry ------------------------------------------------------------------------------------

# Run in its own process: sentry_sdk.init patches Django and Celery for the whole process.
SONDE_SENTRY = textwrap.dedent(
    f"""
    import io, json, logging, sys, types
    from urllib.parse import urlencode
    from wsgiref.util import setup_testing_defaults
    import django
    django.setup()
    import sentry_sdk
    from sentry_sdk.transport import Transport
    from django.core.wsgi import get_wsgi_application
    from django.test.utils import override_settings
    from django.urls import path
    from django.views.decorators.csrf import csrf_exempt

    from comptes.models import Utilisateur
    from portail.observabilite import initialiser_sentry

    evenements = []

    class Capture(Transport):
        def capture_envelope(self, enveloppe):
            for element in enveloppe.items:
                if element.type == "event":
                    evenements.append(element.payload.json)

    initialiser_sentry("https://cle@sentry.invalid/1", "test", transport=Capture)

    @csrf_exempt
    def vue(request):
        request.user = Utilisateur(
            username="fc-x", fc_sub="eaf7d437sub", fc_given_name="Angela Claire Louise",
            fc_family_name="DUBOIS", email="angela@example.fr",
        )
        iban = "{IBAN}"
        identite = {{"given_name": "Angela Claire Louise", "family_name": "DUBOIS"}}
        logging.getLogger("pecule.test").warning("virement depuis %s", "{IBAN_GROUPES}")
        assert identite  # a local variable only: never sent
        raise ValueError(f"rapprochement impossible pour {{iban}}")

    urls = types.ModuleType("urls_sonde_sentry")
    urls.urlpatterns = [path("erreur/", vue)]
    sys.modules["urls_sonde_sentry"] = urls
    # Through the WSGI application, as under gunicorn (sentry wraps it).
    corps = urlencode(
        {{"iban": "{IBAN}", "nom": "DUBOIS", "date_naissance": "1962-08-24"}}
    ).encode()
    environ = {{}}
    setup_testing_defaults(environ)
    environ.update(
        REQUEST_METHOD="POST", PATH_INFO="/erreur/", QUERY_STRING="code=abc&state=def",
        CONTENT_TYPE="application/x-www-form-urlencoded", CONTENT_LENGTH=str(len(corps)),
        HTTP_COOKIE="preferences=secret-de-cookie", HTTP_HOST="testserver",
    )
    environ["wsgi.input"] = io.BytesIO(corps)
    statut = []
    with override_settings(ROOT_URLCONF="urls_sonde_sentry", ALLOWED_HOSTS=["*"]):
        b"".join(get_wsgi_application()(environ, lambda s, h, e=None: statut.append(s)))
    assert statut[0].startswith("500"), statut
    sentry_sdk.flush()
    print(json.dumps(evenements))
    """
)


def test_sentry_n_envoie_aucune_donnee_personnelle():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portail.settings",
        "PECULE_JOURNAUX": "texte",
        "DJANGO_LOG_LEVEL": "WARNING",
    }
    env.pop("SENTRY_DSN", None)
    resultat = subprocess.run(
        [sys.executable, "-c", SONDE_SENTRY],
        cwd=RACINE,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert resultat.returncode == 0, resultat.stderr[-3000:]
    evenements = json.loads(resultat.stdout.strip().splitlines()[-1])
    assert len(evenements) == 1, [e.get("exception") or e.get("logentry") for e in evenements]
    evenement = evenements[0]
    # The error itself is reported: its type, where it happened, the request's path.
    exception = evenement["exception"]["values"][-1]
    assert exception["type"] == "ValueError"
    assert evenement["request"]["url"].endswith("/erreur/")
    assert evenement["request"]["method"] == "POST"
    # Nothing personal: no user, no body, no cookie, no query string, no local variable,
    # no IBAN (in the message or in the breadcrumbs of log lines).
    texte = json.dumps(evenement, ensure_ascii=False)
    for interdit in (
        IBAN,
        IBAN_GROUPES,
        "DUBOIS",
        "Angela",
        "eaf7d437sub",
        "angela@example.fr",
        "1962-08-24",
        "secret-de-cookie",
        "code=abc",
    ):
        assert interdit not in texte, interdit
    assert "user" not in evenement
    assert "[Filtered]" in exception["value"]
    assert all("vars" not in cadre for cadre in exception["stacktrace"]["frames"])
