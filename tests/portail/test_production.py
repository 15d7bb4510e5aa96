"""PECULE_ENV=production refuses development defaults (issue 11, item 10).

With only the variables the old docs listed, production used to start on the sandbox
bank, the local FranceConnect stand-in as issuer and an empty FranceConnect secret. Each
case below starts the real settings in a fresh process (`manage.py check`), as gunicorn,
the worker and beat would."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

RACINE = Path(__file__).resolve().parents[2]

# What a production env file holds when it is complete (docs/exploitation.md).
COMPLET = {
    "PECULE_ENV": "production",
    "DJANGO_SECRET_KEY": "une-cle-de-production-assez-longue-pour-le-test-0123456789",
    "DJANGO_ALLOWED_HOSTS": "pecule.justice.gouv.fr",
    "DATABASE_URL": "postgres://pecule:secret@127.0.0.1:5432/pecule",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "CACHE_URL": "redis://127.0.0.1:6379/1",
    "FRANCECONNECT_ISSUER": "https://oidc.franceconnect.gouv.fr/api/v2",
    "FRANCECONNECT_CLIENT_ID": "0123456789abcdef0123456789abcdef",
    "FRANCECONNECT_CLIENT_SECRET": "un-secret-du-compte-partenaire-franceconnect",
    "PECULE_FOURNISSEUR": "fintecture",
    "FINTECTURE_APP_ID": "app-id",
    "FINTECTURE_APP_SECRET": "app-secret",
    "FINTECTURE_CLE_PRIVEE_FICHIER": "/run/secrets/fintecture.pem",
}
# The variables of the old docs' production example.
DOCUMENTES_AVANT = {
    cle: COMPLET[cle]
    for cle in (
        "PECULE_ENV",
        "DJANGO_SECRET_KEY",
        "DJANGO_ALLOWED_HOSTS",
        "DATABASE_URL",
        "CELERY_BROKER_URL",
        "CACHE_URL",
    )
}


def demarrer(variables: dict) -> subprocess.CompletedProcess:
    env = {
        cle: valeur
        for cle, valeur in os.environ.items()
        if not cle.startswith(
            ("PECULE_", "DJANGO_", "FRANCECONNECT_", "SANDBOX_", "FINTECTURE_", "SENTRY_")
        )
        and cle not in {"DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=RACINE,
        env={**env, **variables},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_la_production_complete_demarre():
    resultat = demarrer(COMPLET)
    assert resultat.returncode == 0, resultat.stderr[-3000:]


def test_avec_les_seules_variables_documentees_avant_elle_refuse_de_demarrer():
    resultat = demarrer(DOCUMENTES_AVANT)
    assert resultat.returncode != 0
    for variable in (
        "FRANCECONNECT_ISSUER",
        "FRANCECONNECT_CLIENT_ID",
        "FRANCECONNECT_CLIENT_SECRET",
        "PECULE_FOURNISSEUR",
    ):
        assert variable in resultat.stderr, resultat.stderr[-3000:]
    assert "PECULE_ENV=production refuse de démarrer" in resultat.stderr


@pytest.mark.parametrize(
    ("variable", "valeur"),
    [
        ("FRANCECONNECT_ISSUER", "http://127.0.0.1:9090/api/v2"),
        ("FRANCECONNECT_ISSUER", "http://localhost:9090/api/v2"),
        ("FRANCECONNECT_CLIENT_ID", "pecule-local"),
        ("FRANCECONNECT_CLIENT_SECRET", ""),
        ("FRANCECONNECT_CLIENT_SECRET", "pecule-local-secret-please-change-0123456789"),
        ("PECULE_FOURNISSEUR", "sandbox"),
        ("DATABASE_URL", "sqlite:///var/db.sqlite3"),
        ("CACHE_URL", ""),
    ],
)
def test_une_valeur_de_developpement_est_refusee_et_nommee(variable, valeur):
    resultat = demarrer({**COMPLET, variable: valeur})
    assert resultat.returncode != 0
    assert variable in resultat.stderr, resultat.stderr[-3000:]


def test_la_demonstration_accepte_les_bouchons():
    """The demo and CI stack (docker-compose.demo.yml): production settings, stand-ins."""
    resultat = demarrer(
        {
            **DOCUMENTES_AVANT,
            "PECULE_ENV": "demonstration",
            "FRANCECONNECT_ISSUER": "http://127.0.0.1:9090/api/v2",
            "PECULE_FOURNISSEUR": "sandbox",
        }
    )
    assert resultat.returncode == 0, resultat.stderr[-3000:]
