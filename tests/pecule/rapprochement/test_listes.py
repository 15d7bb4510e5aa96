"""The régisseur's lists: executed transfers that no bank line proves after N business
days (weekends skipped)."""

import datetime

import pytest

from pecule.models import StatutPaiement
from pecule.rapprochement import services
from tests.factories import EtablissementFactory, agent
from tests.pecule.rapprochement import fabriques
from tests.pecule.rapprochement.camt_factory import credit, releve_camt053

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("roles_rapprochement")]

VENDREDI = datetime.date(2025, 6, 13)
SAMEDI = datetime.date(2025, 6, 14)
LUNDI = datetime.date(2025, 6, 16)
MARDI = datetime.date(2025, 6, 17)
MERCREDI = datetime.date(2025, 6, 18)
JEUDI = datetime.date(2025, 6, 19)


@pytest.mark.parametrize(
    ("aujourdhui", "delai", "attendu"),
    [
        (MERCREDI, 3, LUNDI),
        (MARDI, 3, VENDREDI),
        (LUNDI, 1, LUNDI),
        (datetime.date(2025, 6, 15), 1, VENDREDI),  # a Sunday
        (datetime.date(2025, 6, 15), 3, datetime.date(2025, 6, 11)),
    ],
)
def test_jour_limite(aujourdhui, delai, attendu):
    assert services.jour_limite(aujourdhui, delai) == attendu


@pytest.fixture
def etab():
    return EtablissementFactory(code="RL", regie_iban="FR7630006000011234567890189")


def references(queryset):
    return [virement.reference for virement in queryset]


def test_virement_execute_sans_ligne_apres_trois_jours_ouvres(etab):
    du_vendredi = fabriques.virement(etab, execute_le=fabriques.a_paris(VENDREDI, 16))
    du_samedi = fabriques.virement(etab, execute_le=fabriques.a_paris(SAMEDI, 11))
    du_mardi = fabriques.virement(etab, execute_le=fabriques.a_paris(MARDI, 9))

    # Friday + Monday, Tuesday: only two business days have passed.
    assert references(services.virements_executes_sans_ligne(etab, aujourdhui=MARDI)) == []
    # Monday, Tuesday, Wednesday: three business days for Friday's and Saturday's.
    assert references(services.virements_executes_sans_ligne(etab, aujourdhui=MERCREDI)) == [
        du_vendredi.reference,
        du_samedi.reference,
    ]
    assert du_mardi.reference not in references(
        services.virements_executes_sans_ligne(etab, aujourdhui=JEUDI)
    )
    assert du_mardi.reference in references(
        services.virements_executes_sans_ligne(etab, 2, aujourdhui=JEUDI)
    )


def test_seuls_les_virements_executes_et_non_prouves(etab):
    autre = EtablissementFactory(code="RL2")
    prouve = fabriques.virement(etab, "40.00", execute_le=fabriques.a_paris(VENDREDI))
    ecart = fabriques.virement(etab, "40.00", execute_le=fabriques.a_paris(VENDREDI))
    manquant = fabriques.virement(etab, "40.00", execute_le=fabriques.a_paris(VENDREDI))
    fabriques.virement(etab, statut_paiement=StatutPaiement.AUTORISE)
    fabriques.virement(etab, statut_paiement=StatutPaiement.REFUSE)
    ailleurs = fabriques.virement(autre, execute_le=fabriques.a_paris(VENDREDI))
    contenu = releve_camt053(
        iban=etab.regie_iban,
        ecritures=[credit("40.00", e2e=prouve.reference), credit("39.00", e2e=ecart.reference)],
    )
    services.importer_releve(etablissement=etab, fichier=contenu, auteur=agent("Régisseur", etab))

    assert references(services.virements_executes_sans_ligne(etab, aujourdhui=JEUDI)) == [
        manquant.reference
    ]
    # Every establishment, for the periodic alert.
    assert set(references(services.virements_executes_sans_ligne(None, aujourdhui=JEUDI))) == {
        manquant.reference,
        ailleurs.reference,
    }
