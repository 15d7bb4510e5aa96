"""Transfers in the back-office: scoped to the régie, and the « à traiter » decisions."""

import uuid

import pytest

from pecule import services
from pecule.fournisseurs.base import EtatPaiement
from pecule.models import StatutRegie, Virement
from permis import services as permis_services
from regie.models import Ecriture
from tests.factories import EtablissementFactory, agent

pytestmark = pytest.mark.django_db


def _virement_a_traiter(situation):
    virement = services.initier_virement(
        proche=situation["proche"],
        detenu=situation["detenu"],
        montant="80.00",
        cle_idempotence=str(uuid.uuid4()),
        url_retour="https://portail.invalid/retour",
    )
    permis_services.suspendre_permis(permis=situation["permis"], motif="incident")
    return services.appliquer_etat(
        virement=virement,
        etat=EtatPaiement(statut="execute", statut_brut="EXECUTED"),
        origine="test",
    )


def test_file_a_traiter_et_decision_de_credit(client, situation, fournisseur_memoire):
    virement = _virement_a_traiter(situation)
    assert virement.statut_regie == StatutRegie.A_TRAITER
    regisseur = agent("Régisseur", situation["etablissement"])
    client.force_login(regisseur)
    liste = client.get("/admin/pecule/virement/?a_traiter=oui")
    assert liste.status_code == 200 and virement.reference in liste.content.decode()
    page = client.get(f"/admin/pecule/virement/{virement.pk}/decision/")
    assert page.status_code == 200
    jeton = page.context["form"]["jeton"].value()
    donnees = {
        "jeton": str(jeton),
        "decision": "crediter",
        "motif": "Permis suspendu après le paiement",
    }
    assert (
        client.post(f"/admin/pecule/virement/{virement.pk}/decision/", donnees).status_code == 302
    )
    # The same form sent again books nothing twice.
    client.post(f"/admin/pecule/virement/{virement.pk}/decision/", donnees)
    virement.refresh_from_db()
    assert virement.statut_regie == StatutRegie.CREDITE
    assert Ecriture.objects.filter(source=f"virement:{virement.reference}").count() == 1


def test_decision_sans_motif_refusee(client, situation, fournisseur_memoire):
    virement = _virement_a_traiter(situation)
    client.force_login(agent("Régisseur", situation["etablissement"]))
    reponse = client.post(
        f"/admin/pecule/virement/{virement.pk}/decision/",
        {"jeton": str(uuid.uuid4()), "decision": "retourner", "motif": ""},
    )
    assert reponse.status_code == 200
    assert "motif" in reponse.content.decode().lower()
    virement.refresh_from_db()
    assert virement.statut_regie == StatutRegie.A_TRAITER


def test_virement_d_une_autre_regie_introuvable(client, situation, fournisseur_memoire):
    virement = _virement_a_traiter(situation)
    client.force_login(agent("Régisseur", EtablissementFactory()))
    assert client.get(f"/admin/pecule/virement/{virement.pk}/change/").status_code == 404
    assert client.get(f"/admin/pecule/virement/{virement.pk}/decision/").status_code == 404
    assert client.get("/admin/pecule/virement/").context["cl"].result_count == 0
    assert Virement.objects.count() == 1
