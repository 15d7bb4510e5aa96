"""Money out, the whole loop (spec 05-sorties-de-fonds.md), with the real sandbox bank as
its own process and the back-office driven as the staff would, over HTTP:

1. a relative's transfer held « à traiter » → « retourner à l'émetteur » by the régisseur
   (the IBAN taken from the régie's statement) → validated by the chef → batched → the
   pain.001 file downloaded once, valid against the XSD → deposited at the bank, which
   executes it → the day's camt.053 (its debit) imported → the order executed, the
   relative told with the reason;
2. money sent out to an account the bank rejects → the bank's pain.002 imported → the
   order rejected, the money back on the part disponible, the régisseur told.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
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
from tests.factories import IBAN_REJETE

pytestmark = pytest.mark.slow


def _connecter(utilisateur) -> Client:
    """A staff member logged in on the admin's login page."""
    client = Client()
    reponse = client.post(
        "/admin/login/?next=/admin/",
        {"username": utilisateur.username, "password": MOT_DE_PASSE_AGENT},
    )
    assert reponse.status_code == 302, texte_html(reponse)
    return client


def _jeton(client, url) -> str:
    trouve = re.search(r'name="jeton" value="([0-9a-f-]{36})"', client.get(url).content.decode())
    assert trouve, url
    return trouve.group(1)


def _transmettre(regisseur_client, etablissement):
    """The régisseur constitutes the batch and downloads its file (which transmits it)."""
    from regie.models import Remise
    from socle.iso20022 import schema

    reponse = regisseur_client.post(
        reverse("admin:regie_remise_add"),
        {
            "jeton": _jeton(regisseur_client, reverse("admin:regie_remise_add")),
            "etablissement": etablissement.pk,
            "version": "pain.001.001.03",
            "date_execution": timezone.localdate().isoformat(),
        },
    )
    assert reponse.status_code == 302, texte_html(reponse)
    remise = Remise.objects.get(etablissement=etablissement, statut="constituee")
    fichier = regisseur_client.post(reverse("admin:regie_remise_fichier", args=[remise.pk]))
    assert fichier.status_code == 200
    schema("pain.001.001.03").assertValid(etree.fromstring(fichier.content))
    # Served once: a second download is refused (the bank would pay twice).
    encore = regisseur_client.post(
        reverse("admin:regie_remise_fichier", args=[remise.pk]), follow=True
    )
    assert "déjà été téléchargé" in texte_html(encore)
    return remise, fichier.content


def _deposer(banque, fichier: bytes) -> dict:
    """What the régisseur does on the bank's portal: deposit the pain.001 file."""
    reponse = banque.api(
        "POST", "/api/remises", data=fichier, headers={"Content-Type": "application/xml"}
    )
    assert reponse.status_code == 201, reponse.text
    return reponse.json()


def _importer(client, url, etablissement, nom, contenu):
    return client.post(
        url,
        {
            "etablissement": etablissement.pk,
            "fichier": SimpleUploadedFile(nom, contenu, "application/xml"),
        },
        follow=True,
    )


def _valider(chef_client, ordre):
    reponse = chef_client.post(
        reverse("admin:regie_ordrevirement_valider", args=[ordre.pk]), follow=True
    )
    assert "validé" in texte_html(reponse)


def test_retour_a_l_emetteur_jusqu_au_releve(proche, banque, situation, settings):
    from pecule.models import CourrielSortant, EtatProche, StatutRegie
    from pecule.services import compte_d_origine
    from permis import services as permis_services
    from regie.models import StatutOrdre
    from tests.factories import agent

    etablissement, regisseur = situation["etablissement"], situation["regisseur"]
    chef = agent("Chef d'établissement", etablissement, username="chef.e2e")

    # Angela pays 60 €; meanwhile her permit is suspended: the money arrives, held.
    virement, url_banque = proche.virer("60,00")
    permis_services.suspendre_permis(permis=situation["permis"], motif="Incident au parloir")
    assert proche.revenir(banque.payer(url_banque, banque="credit-fictif")).status_code == 200
    attendre_notifications_traitees(banque, virement, {"AUTHORISED", "EXECUTED"})
    attendre_virement(virement, lambda v: v.statut_regie == StatutRegie.A_TRAITER)

    # The day's statement shows the credit: where the money came from.
    jour = timezone.localdate()
    regisseur_client = _connecter(regisseur)
    import_releve = reverse("admin:pecule_relevebancaire_importer")
    releve = banque.fournisseur().releve_camt053(IBAN_REGIE, jour)
    assert "1 rapprochée(s)" in texte_html(
        _importer(regisseur_client, import_releve, etablissement, "credit.xml", releve)
    )
    virement.refresh_from_db()
    origine = compte_d_origine(virement)
    assert origine.source == "releve" and origine.iban.startswith("FR76999")

    # The régisseur sees the sender by name and the IBAN, and returns the transfer.
    page = texte_html(
        regisseur_client.get(reverse("admin:pecule_virement_change", args=[virement.pk]))
    )
    assert "Angela Claire Louise DUBOIS" in page and origine.iban in page
    url_decision = reverse("admin:pecule_virement_decision", args=[virement.pk])
    reponse = regisseur_client.post(
        url_decision,
        {
            "jeton": _jeton(regisseur_client, url_decision),
            "decision": "retourner",
            "motif": "Permis de visite suspendu",
            "iban": "",
            "titulaire": "",
        },
        follow=True,
    )
    assert "une seconde personne doit le valider" in texte_html(reponse)
    virement.refresh_from_db()
    ordre = virement.ordre_retour
    assert (ordre.beneficiaire_iban, ordre.montant, ordre.statut) == (
        origine.iban,
        Decimal("60.00"),
        StatutOrdre.PREPARE,
    )

    # Four eyes: the chef validates; the régisseur batches and downloads the file.
    _valider(_connecter(chef), ordre)
    remise, fichier = _transmettre(regisseur_client, etablissement)
    assert ordre.reference.encode() in fichier

    # The bank executes it; its statement of the day now shows the debit.
    depot = _deposer(banque, fichier)
    assert depot["statut"] == "ACSC"
    releve = banque.fournisseur().releve_camt053(IBAN_REGIE, jour)
    page = texte_html(
        _importer(regisseur_client, import_releve, etablissement, "debit.xml", releve)
    )
    assert "1 rapprochée(s)" in page  # the debit; the credit line is a duplicate
    ordre.refresh_from_db()
    assert (ordre.statut, ordre.execute_le) == (StatutOrdre.EXECUTE, jour)
    virement.refresh_from_db()
    assert virement.etat_proche == EtatProche.RETOURNE
    courriel = CourrielSortant.objects.get(cle=f"retourne:{virement.reference}")
    assert "Permis de visite suspendu" in courriel.corps
    assert f"{jour:%d/%m/%Y}" in courriel.corps

    # The bank's report: accepted, nothing more to do.
    rapport = banque.api("GET", f"/api/remises/{remise.reference}/pain002").content
    _importer(
        regisseur_client,
        reverse("admin:pecule_relevebancaire_importer_pain002"),
        etablissement,
        "pain002.xml",
        rapport,
    )
    ordre.refresh_from_db()
    assert ordre.statut == StatutOrdre.EXECUTE


def test_ordre_rejete_par_la_banque_revient_sur_le_compte(banque, situation, mailoutbox):
    from regie import services as regie
    from regie.models import CompteNominatif, NatureEcriture, StatutOrdre
    from tests.factories import agent

    etablissement, regisseur, compte = (
        situation["etablissement"],
        situation["regisseur"],
        situation["compte"],
    )
    regisseur.email = "regisseur.e2e@example.fr"
    regisseur.save()
    chef = agent("Chef d'établissement", etablissement, username="chef.e2e")
    regie.encaisser_recette(
        compte=compte,
        montant=Decimal("150.00"),
        nature=NatureEcriture.SALAIRE,
        source="paie-e2e",
        motif="Paie",
        auteur=regisseur,
    )

    # The régisseur sends 50 € for the detainee to an account the bank will refuse.
    regisseur_client = _connecter(regisseur)
    url_debit = reverse("admin:regie_comptenominatif_debit", args=[compte.pk])
    reponse = regisseur_client.post(
        url_debit,
        {
            "jeton": _jeton(regisseur_client, url_debit),
            "nature": NatureEcriture.VIREMENT_SORTANT,
            "montant": "50",
            "date_operation": timezone.localdate().isoformat(),
            "motif": "Envoi à sa sœur",
            "beneficiaire": "Mme Julie DURAND",
            "iban": IBAN_REJETE,
            "bic": "",
        },
    )
    assert reponse.status_code == 302, texte_html(reponse)
    assert CompteNominatif.objects.get(pk=compte.pk).part_disponible == Decimal("100.00")
    ordre = compte.ordres_virement.get()
    _valider(_connecter(chef), ordre)
    remise, fichier = _transmettre(regisseur_client, etablissement)
    assert _deposer(banque, fichier)["statut"] == "RJCT"

    # The bank's report, imported by the régisseur: the money is back, the régisseur told.
    rapport = banque.api("GET", f"/api/remises/{remise.reference}/pain002").content
    page = texte_html(
        _importer(
            regisseur_client,
            reverse("admin:pecule_relevebancaire_importer_pain002"),
            etablissement,
            "pain002.xml",
            rapport,
        )
    )
    assert "1 virement(s) rejeté(s)" in page
    ordre.refresh_from_db()
    assert (ordre.statut, ordre.code_rejet) == (StatutOrdre.REJETE, "AC04")
    compte = CompteNominatif.objects.get(pk=compte.pk)
    assert compte.part_disponible == Decimal("150.00")
    assert any(ordre.reference in m.body for m in mailoutbox)
    # The same report again: refused, nothing changes.
    page = texte_html(
        _importer(
            regisseur_client,
            reverse("admin:pecule_relevebancaire_importer_pain002"),
            etablissement,
            "pain002.xml",
            rapport,
        )
    )
    assert "déjà été importé" in page
    assert CompteNominatif.objects.get(pk=compte.pk).part_disponible == Decimal("150.00")
    # No money left the régie: the day's statement has no debit.
    from pecule.rapprochement.camt import DEBIT, lire_camt053

    releve = lire_camt053(banque.fournisseur().releve_camt053(IBAN_REGIE, timezone.localdate()))
    assert [e for e in releve.releves[0].ecritures if e.sens == DEBIT] == []
