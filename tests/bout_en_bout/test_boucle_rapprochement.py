"""The whole money loop (spec 03-paiements.md), with the real sandbox bank process:

transfers paid at the sandbox (its bank pages played over plain HTTP) → its signed
notifications processed by the live portal → the transfers credited on the compte
nominatif → the régie account's camt.053 statement for the day, produced by the sandbox,
valid against the official XSD → imported (by the service, and by the régisseur through the
admin import page) → every line matched to its transfer, no executed transfer left without
a bank line, and importing the same file again changes nothing.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from lxml import etree

from tests.bout_en_bout.outils import (
    IBAN_REGIE,
    MOT_DE_PASSE_AGENT,
    attendre_notifications_traitees,
    attendre_virement,
    texte_html,
)

pytestmark = pytest.mark.slow


def _schema():
    from socle.iso20022 import schema

    return schema("camt.053.001.02")


def _payer_et_crediter(proche, banque, paiements) -> list:
    """Each (amount, bank, outcome) paid at the sandbox; waits until every notification is
    delivered and processed and each successful transfer is credited. Returns them all."""
    from pecule.models import StatutPaiement, StatutRegie

    virements = []
    for montant, code_banque, issue in paiements:
        virement, url_banque = proche.virer(montant)
        url = banque.payer(url_banque, banque=code_banque, issue=issue)
        assert url == proche.url_retour(virement)
        assert proche.revenir(url).status_code == 200
        virements.append((virement, issue))
    for virement, issue in virements:
        virement.refresh_from_db()
        statuts = {
            "succes": {"AUTHORISED", "EXECUTED"},
            "attente_succes": {"PENDING_BANK", "EXECUTED"},
            "refus": {"REJECTED"},
        }[issue]
        attendre_notifications_traitees(banque, virement, statuts)
        if issue == "refus":
            assert virement.statut_paiement == StatutPaiement.REFUSE
        else:
            attendre_virement(virement, lambda v: v.statut_regie == StatutRegie.CREDITE)
    return [virement for virement, _ in virements]


def _sans_ligne(etablissement):
    """Executed transfers with no bank line, seen a week from now (so that today's
    transfers are old enough to be listed when no statement proves them)."""
    from pecule.rapprochement.services import virements_executes_sans_ligne

    dans_une_semaine = timezone.localdate() + datetime.timedelta(days=7)
    return list(virements_executes_sans_ligne(etablissement, aujourdhui=dans_une_semaine))


def _etat_du_rapprochement(etablissement) -> dict:
    from pecule.models import EvenementVirement, LigneReleve, ReleveBancaire

    return {
        "releves": ReleveBancaire.objects.count(),
        "lignes": sorted(
            LigneReleve.objects.values_list(
                "releve_id", "position", "statut_rapprochement", "virement_id", "doublon_de_id"
            )
        ),
        "evenements": EvenementVirement.objects.filter(source="releve").count(),
        "ecritures": sorted(
            LigneReleve.objects.filter(virement__isnull=False).values_list(
                "virement__ecriture_id", flat=True
            )
        ),
    }


def test_virements_notifications_releve_rapprochement(proche, banque, situation):
    from pecule.models import LigneReleve, StatutPaiement, StatutRapprochement, Virement
    from pecule.rapprochement import services
    from pecule.rapprochement.camt import lire_camt053
    from regie.models import Ecriture

    etablissement = situation["etablissement"]
    payes = _payer_et_crediter(
        proche,
        banque,
        [
            ("120,00", "banque-exemple", "succes"),
            ("80,50", "credit-fictif", "succes"),
            ("25,00", "neobanque-test", "refus"),
            ("150,00", "caisse-epargne-demo", "attente_succes"),
        ],
    )
    executes = [v for v in payes if v.statut_paiement == StatutPaiement.EXECUTE]
    assert len(executes) == 3
    assert Ecriture.objects.filter(virement__in=executes).count() == 3
    # Before any statement, the three credited transfers wait for their bank line.
    assert {v.pk for v in _sans_ligne(etablissement)} == {v.pk for v in executes}

    # The day's statement of the régie's account, as the sandbox (the "bank") produces it.
    jour = timezone.localdate()
    fichier = banque.fournisseur().releve_camt053(IBAN_REGIE, jour)
    _schema().assertValid(etree.fromstring(fichier))  # the official XSD, shipped
    lu = lire_camt053(fichier).releves[0]  # the parser validates too
    assert lu.iban == IBAN_REGIE and lu.coherent
    assert sorted(e.montant for e in lu.ecritures) == sorted(v.montant for v in executes)
    assert lu.solde_cloture.montant - lu.solde_ouverture.montant == Decimal("350.50")

    releve = services.importer_releve(
        etablissement=etablissement, fichier=fichier, auteur=None, nom_fichier="sandbox.xml"
    )
    assert services.resume_releve(releve) == {
        StatutRapprochement.RAPPROCHEE: 3,
        StatutRapprochement.MONTANT_DIFFERENT: 0,
        StatutRapprochement.NON_RAPPROCHEE: 0,
        StatutRapprochement.IGNOREE: 0,
    }
    lignes = {ligne.virement_id: ligne for ligne in releve.lignes.all()}
    assert set(lignes) == {v.pk for v in executes}
    for virement in executes:
        ligne = lignes[virement.pk]
        assert ligne.reference_bout_en_bout == virement.reference
        assert ligne.montant == virement.montant
        assert virement.reference in ligne.libelle
    assert not services.lignes_non_rapprochees(etablissement).exists()
    assert not services.ecarts_de_montant(etablissement).exists()
    assert _sans_ligne(etablissement) == []
    refuse = next(v for v in payes if v.statut_paiement == StatutPaiement.REFUSE)
    assert not LigneReleve.objects.filter(virement=refuse).exists()

    # The same file again: refused, nothing changes.
    avant = _etat_du_rapprochement(etablissement)
    with pytest.raises(services.ReleveDejaImporte):
        services.importer_releve(etablissement=etablissement, fichier=fichier, auteur=None)
    assert _etat_du_rapprochement(etablissement) == avant

    # The same day's statement downloaded again (a new file: another message id): its
    # lines are recognised by their bank reference, never matched twice.
    deuxieme = banque.fournisseur().releve_camt053(IBAN_REGIE, jour)
    assert deuxieme != fichier
    autre = services.importer_releve(etablissement=etablissement, fichier=deuxieme, auteur=None)
    assert services.resume_releve(autre)[StatutRapprochement.IGNOREE] == 3
    assert all(ligne.doublon_de_id is not None for ligne in autre.lignes.all())
    assert services.resume_releve(releve)[StatutRapprochement.RAPPROCHEE] == 3
    assert not services.lignes_non_rapprochees(etablissement).exists()
    assert _sans_ligne(etablissement) == []
    # The transfers themselves were never changed by the reconciliation.
    for virement in executes:
        avant_virement = (virement.statut_paiement, virement.statut_regie, virement.ecriture_id)
        virement.refresh_from_db()
        assert (virement.statut_paiement, virement.statut_regie, virement.ecriture_id) == (
            avant_virement
        )
    assert Virement.objects.count() == 4


def test_import_par_le_regisseur_dans_l_admin(proche, banque, situation):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from pecule.models import ReleveBancaire, StatutRapprochement

    etablissement = situation["etablissement"]
    regisseur = situation["regisseur"]
    executes = _payer_et_crediter(
        proche,
        banque,
        [("60,00", "banque-exemple", "succes"), ("99,99", "credit-fictif", "succes")],
    )
    fichier = banque.api(
        "GET", f"/api/releves/{IBAN_REGIE}", params={"date": timezone.localdate().isoformat()}
    ).content

    # The régisseur logs in on the admin's login page.
    client = Client()
    reponse = client.post(
        "/admin/login/?next=/admin/",
        {"username": regisseur.username, "password": MOT_DE_PASSE_AGENT},
    )
    assert reponse.status_code == 302 and reponse["Location"] == "/admin/", texte_html(reponse)

    url_import = reverse("admin:pecule_relevebancaire_importer")
    assert client.get(url_import).status_code == 200

    def envoyer():
        return client.post(
            url_import,
            {
                "etablissement": etablissement.pk,
                "fichier": SimpleUploadedFile("releve-sandbox.xml", fichier, "application/xml"),
            },
            follow=True,
        )

    reponse = envoyer()
    releve = ReleveBancaire.objects.get()
    assert releve.importe_par == regisseur
    page = texte_html(reponse)
    assert reponse.redirect_chain == [
        (reverse("admin:pecule_relevebancaire_change", args=[releve.pk]), 302)
    ]
    assert (
        f"{releve} importé : 2 ligne(s), dont 2 rapprochée(s), 0 avec un montant différent, "
        "0 non rapprochée(s) et 0 ignorée(s)." in page
    )
    for virement in executes:
        assert virement.reference in page
    assert {ligne.statut_rapprochement for ligne in releve.lignes.all()} == {
        StatutRapprochement.RAPPROCHEE
    }

    # The reconciliation page: the three lists are empty.
    page = texte_html(
        client.get(
            reverse("admin:pecule_relevebancaire_rapprochement", args=[etablissement.pk])
            + "?delai=1"
        )
    )
    assert "Lignes non rapprochées (0)" in page
    assert "Écarts de montant (0)" in page
    assert "Virements exécutés sans ligne de relevé (0)" in page

    # The same file again through the form: refused with a message, nothing changes.
    reponse = envoyer()
    assert reponse.status_code == 200 and reponse.redirect_chain == []
    assert "Ce fichier a déjà été importé le" in texte_html(reponse)
    assert ReleveBancaire.objects.count() == 1
    assert releve.lignes.count() == 2
