"""Two transfers racing for the same monthly cap: at most one is credited automatically,
the other goes to the régisseur's « à traiter » queue.

Two relatives each initiate 200 € for the same detainee under a 500 € monthly cap (400 €
pending: allowed). The establishment then lowers the cap to 300 €: only one of the two
still fits. Both relatives approve at their bank. To make the two credits truly
simultaneous, the test delivers one EXECUTED notification per transfer (the bank's own
deliveries are dropped: with four notifications, the worker's two processes could both wait
on the same transfer) and holds the detainee's account row lock until the worker's two
processes are both waiting for it (each inside its own transaction, each transfer already
marked executed), then lets them go."""

from decimal import Decimal

import pytest

from pecule.models import CourrielSortant, StatutPaiement, StatutRegie, Virement
from regie.models import CompteNominatif, Ecriture, NatureEcriture
from regie.plafonds import subsides_du_mois
from tests.fiabilite.conftest import CHEMIN_NOTIFICATIONS
from tests.fiabilite.outils import (
    attendre,
    attendre_attente_de_verrou,
    attendre_notifications_traitees,
    corps_abandonnes,
    ecritures,
    initier,
    poster,
    signature,
    verrou,
)
from tests.pecule.conftest import creer_proche, permis_pour

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_deux_virements_pour_le_meme_plafond_mensuel(
    banque, situation, worker, celery_redis, live_server
):
    detenu, compte = situation["detenu"], situation["compte"]
    autre = creer_proche("proche2", fc_sub="sub-proche2", fc_given_name="Marc")
    permis_pour(autre, detenu, numero="PV-2")
    premier = initier(situation, "200.00")
    second = initier(situation, "200.00", proche=autre)

    etablissement = situation["etablissement"]
    etablissement.plafond_mensuel_par_detenu = Decimal("300.00")
    etablissement.save()

    banque.configurer(drop=10)
    banque.payer(premier.url_banque, issue="succes")
    banque.payer(second.url_banque, issue="succes")
    corps = [corps_abandonnes(banque, v, 2)["EXECUTED"] for v in (premier, second)]

    url = f"{live_server.url}{CHEMIN_NOTIFICATIONS}"
    with verrou(CompteNominatif, compte.pk):
        for contenu in corps:
            assert poster(url, contenu, signature(contenu, banque.secret)).status_code == 200
        attendre_attente_de_verrou("regie_comptenominatif", nombre=2)
    attendre_notifications_traitees(2)

    virements = list(Virement.objects.filter(pk__in=[premier.pk, second.pk]))
    assert all(v.statut_paiement == StatutPaiement.EXECUTE for v in virements)
    etats = sorted(v.statut_regie for v in virements)
    assert etats == [StatutRegie.A_TRAITER, StatutRegie.CREDITE]
    (credite,) = [v for v in virements if v.statut_regie == StatutRegie.CREDITE]
    (retenu,) = [v for v in virements if v.statut_regie == StatutRegie.A_TRAITER]
    assert "plafond mensuel" in retenu.motif_a_traiter
    assert "300,00 €" in retenu.motif_a_traiter
    assert retenu.ecriture is None
    assert ecritures(credite) == 1
    assert ecritures(retenu) == 0
    assert Ecriture.objects.filter(nature=NatureEcriture.SUBSIDE_PROCHE).count() == 1
    compte.refresh_from_db()
    assert subsides_du_mois(compte, credite.execute_le.date()) == Decimal("200.00")
    # Only the credited relative is told it is credited.
    attendre(lambda: CourrielSortant.objects.count() == 1, delai=10)
    assert CourrielSortant.objects.get().cle == f"credite:{credite.reference}"
