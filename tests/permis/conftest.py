"""Fixtures of the permis tests: two establishments, detainees, relatives, permits."""

import datetime
import itertools

import pytest
from django.contrib.auth.models import Group, Permission

from comptes.models import Utilisateur
from permis import services
from permis.models import PermisDeVisite, StatutPermis
from permis.roles import ajouter_permissions_permis
from tests.factories import DetenuFactory, EtablissementFactory, agent
from tests.horloge import a_paris

AUJOURDHUI = datetime.date(2026, 3, 10)
_compteur = itertools.count(1)


@pytest.fixture(autouse=True)
def _jour_fixe(time_machine):
    """Every permis test runs on 10 March 2026 at 11:00 in Paris (the clock keeps ticking
    from there): services, selectors, the API and the admin all see the same today."""
    time_machine.move_to(a_paris(AUJOURDHUI.year, AUJOURDHUI.month, AUJOURDHUI.day, 11))


def proche(nom="Lefevre", prenoms="Heloise Eleonore", naissance=datetime.date(1985, 4, 2), **kw):
    n = next(_compteur)
    return Utilisateur.objects.create(
        username=f"fc-{n}",
        fc_sub=f"sub-{n}",
        fc_family_name=nom,
        fc_given_name=prenoms,
        fc_birthdate=naissance,
        is_staff=False,
        **kw,
    )


def permis(detenu, **kw):
    donnees = {
        "numero": f"PV-{next(_compteur):05d}",
        "titulaire_nom": "LEFÈVRE",
        "titulaire_prenoms": "Héloïse Éléonore",
        "titulaire_date_naissance": datetime.date(1985, 4, 2),
        "lien": "sœur",
        "date_debut": datetime.date(2026, 1, 1),
        "date_fin": datetime.date(2026, 12, 31),
        "statut": StatutPermis.ACTIF,
        **kw,
    }
    return services.creer_permis(etablissement=detenu.etablissement, detenu=detenu, **donnees)


def regisseur(*etablissements):
    """A Régisseur with the permis permissions (re-added if a transactional test emptied
    the tables)."""
    utilisateur = agent("Régisseur", *etablissements)
    ajouter_permissions_permis(Group, Permission)
    return Utilisateur.objects.get(pk=utilisateur.pk)


@pytest.fixture
def etab_a():
    return EtablissementFactory(code="MA-A", nom="Maison d'arrêt A")


@pytest.fixture
def etab_b():
    return EtablissementFactory(code="CD-B", nom="Centre de détention B")


@pytest.fixture
def detenu(etab_a):
    return DetenuFactory(
        etablissement=etab_a,
        numero_ecrou="12345",
        nom="MARTIN",
        prenoms="Paul Émile",
        date_naissance=datetime.date(1990, 7, 14),
    )


@pytest.fixture
def permis_a(detenu) -> PermisDeVisite:
    return permis(detenu, numero="PV-2026-001")
