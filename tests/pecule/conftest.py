import datetime

import pytest

from pecule import fournisseurs
from permis import services as permis_services
from permis.models import StatutPermis
from regie.models import StatutPenal
from tests.factories import DetenuFactory, EtablissementFactory
from tests.horloge import DEBUT_JUILLET_PARIS
from tests.pecule.fournisseur_memoire import FournisseurMemoire


@pytest.fixture(autouse=True)
def _instant_fixe(time_machine):
    """The payments' tests run at 00:30 on 1 July 2026 in Paris (30 June in UTC), the clock ticking
    from there; a test that needs another instant moves the clock again."""
    time_machine.move_to(DEBUT_JUILLET_PARIS)


@pytest.fixture
def fournisseur_memoire(settings):
    settings.PECULE_FOURNISSEURS = {
        "memoire": {"CLASSE": "tests.pecule.fournisseur_memoire.FournisseurMemoire"}
    }
    settings.PECULE_FOURNISSEUR_DEFAUT = "memoire"
    fournisseurs.reinitialiser()
    FournisseurMemoire.vider()
    yield FournisseurMemoire
    fournisseurs.reinitialiser()


def creer_proche(username="proche", **identite):
    from comptes.models import Utilisateur

    valeurs = {
        "fc_sub": f"sub-{username}",
        "fc_given_name": "Angela Claire Louise",
        "fc_family_name": "DUBOIS",
        "fc_birthdate": datetime.date(1962, 8, 24),
        "email": f"{username}@example.fr",
    }
    valeurs.update(identite)
    return Utilisateur.objects.create(username=username, **valeurs)


def permis_pour(proche, detenu, numero="PV-1", statut=StatutPermis.ACTIF):
    """A permit issued to `proche` for `detenu`, registered on the proche's account."""
    from permis.models import PermisEnregistre

    permis = permis_services.creer_permis(
        etablissement=detenu.etablissement,
        numero=numero,
        detenu=detenu,
        titulaire_nom=proche.fc_family_name,
        titulaire_prenoms=proche.fc_given_name,
        titulaire_date_naissance=proche.fc_birthdate,
        date_debut=datetime.date(2025, 1, 1),
        statut=statut,
    )
    PermisEnregistre.objects.create(proche=proche, permis=permis)
    return permis


@pytest.fixture
def situation(db):
    """An establishment with caps, a detainee, a relative with a registered permit."""
    from decimal import Decimal

    etablissement = EtablissementFactory(
        plafond_par_virement=Decimal("300.00"), plafond_mensuel_par_detenu=Decimal("500.00")
    )
    detenu = DetenuFactory(etablissement=etablissement, statut_penal=StatutPenal.CONDAMNE)
    proche = creer_proche()
    permis = permis_pour(proche, detenu)
    return {"etablissement": etablissement, "detenu": detenu, "proche": proche, "permis": permis}
