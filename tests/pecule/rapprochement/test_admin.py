"""The statements in the back-office: scoped to the user's establishments (404 outside),
the import form, the statement's page and the reconciliation page."""

import datetime
import html

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from pecule.models import LigneReleve, ReleveBancaire, StatutRapprochement
from pecule.rapprochement import services
from tests.factories import EtablissementFactory, agent
from tests.pecule.rapprochement import fabriques
from tests.pecule.rapprochement.camt_factory import credit, debit, releve_camt053

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("roles_rapprochement")]

IBAN_A = "FR7630006000011234567890189"
IBAN_B = "FR7617569000306571524325K06"


@pytest.fixture(autouse=True)
def _hachage_rapide(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def etab_a():
    return EtablissementFactory(code="AA", nom="Maison d'arrêt A", regie_iban=IBAN_A)


@pytest.fixture
def etab_b():
    return EtablissementFactory(code="BB", nom="Centre de détention B", regie_iban=IBAN_B)


@pytest.fixture
def regisseur_a(etab_a):
    return agent("Régisseur", etab_a)


@pytest.fixture
def client_a(client, regisseur_a):
    client.force_login(regisseur_a)
    return client


def texte(reponse) -> str:
    return html.unescape(reponse.content.decode())


def messages_de(reponse) -> list[str]:
    return [str(m) for m in get_messages(reponse.wsgi_request)]


def url(nom: str, *args) -> str:
    return reverse(f"admin:pecule_relevebancaire_{nom}", args=args)


def releve_de(etab, ecritures, **options):
    contenu = releve_camt053(iban=etab.regie_iban, ecritures=ecritures, **options)
    return services.importer_releve(etablissement=etab, fichier=contenu, auteur=None)


def fichier(contenu: bytes, nom="releve.xml"):
    return SimpleUploadedFile(nom, contenu, content_type="application/xml")


def test_liste_limitee_aux_etablissements_de_l_agent(client_a, etab_a, etab_b):
    releve_de(etab_a, [credit("10.00")], identifiant="STMT-A")
    releve_de(etab_b, [credit("10.00")], identifiant="STMT-B")
    reponse = client_a.get(url("changelist"))
    assert reponse.status_code == 200
    contenu = texte(reponse)
    assert "STMT-A" in contenu and "STMT-B" not in contenu
    assert "Importer un relevé camt.053" in contenu
    assert "Rapprochement" in contenu


def test_releve_d_un_autre_etablissement_introuvable(client_a, etab_a, etab_b):
    releve_b = releve_de(etab_b, [credit("10.00")], identifiant="STMT-B")
    assert client_a.get(url("change", releve_b.pk)).status_code == 404
    assert client_a.get(url("change", 999999)).status_code == 404
    assert client_a.get(url("rapprochement", etab_b.pk)).status_code == 404
    ligne_b = releve_b.lignes.get()
    reponse = client_a.get(reverse("admin:pecule_lignereleve_change", args=[ligne_b.pk]))
    assert reponse.status_code == 404


def test_page_du_releve(client_a, etab_a):
    virement = fabriques.virement(etab_a, "50.00")
    releve = releve_de(
        etab_a,
        [
            credit("50.00", e2e=virement.reference),
            credit("20.00", e2e="PEC-ZZZZ-ZZZZ"),
            debit("5.00"),
        ],
    )
    reponse = client_a.get(url("change", releve.pk))
    assert reponse.status_code == 200
    contenu = texte(reponse)
    assert str(releve) in contenu
    assert IBAN_A in contenu
    assert "1\u202f065,00 €" in contenu  # closing balance
    assert virement.reference in contenu
    assert reverse("admin:pecule_virement_change", args=[virement.pk]) in contenu
    for libelle in ("Rapprochée", "Non rapprochée", "Ignorée"):
        assert libelle in contenu
    assert "Référence PEC-ZZZZ-ZZZZ (référence de bout en bout) inconnue du portail." in contenu


def test_import_par_le_formulaire(client_a, etab_a, regisseur_a):
    virement = fabriques.virement(etab_a, "50.00")
    contenu = releve_camt053(
        iban=IBAN_A, ecritures=[credit("50.00", e2e=virement.reference), debit("3.00")]
    )
    assert client_a.get(url("importer")).status_code == 200
    reponse = client_a.post(
        url("importer"), {"etablissement": etab_a.pk, "fichier": fichier(contenu)}
    )
    releve = ReleveBancaire.objects.get()
    assert reponse.status_code == 302
    assert reponse["Location"] == url("change", releve.pk)
    assert releve.importe_par == regisseur_a and releve.nom_fichier == "releve.xml"
    assert bytes(releve.contenu) == contenu
    assert messages_de(reponse) == [
        f"{releve} importé : 2 ligne(s), dont 1 rapprochée(s), 0 avec un montant différent, "
        "1 non rapprochée(s) et 0 ignorée(s)."
    ]
    assert LigneReleve.objects.get(virement=virement).statut_rapprochement == (
        StatutRapprochement.RAPPROCHEE
    )

    # The same file again: refused with the message, nothing changes.
    reponse = client_a.post(
        url("importer"), {"etablissement": etab_a.pk, "fichier": fichier(contenu)}
    )
    assert reponse.status_code == 200
    assert "Ce fichier a déjà été importé le" in texte(reponse)
    assert "rien n'a été modifié" in texte(reponse)
    assert ReleveBancaire.objects.count() == 1 and LigneReleve.objects.count() == 2


def test_import_refuse_en_francais(client_a, etab_a):
    contenu = releve_camt053(iban=IBAN_B, ecritures=[credit("50.00")])
    reponse = client_a.post(
        url("importer"), {"etablissement": etab_a.pk, "fichier": fichier(contenu)}
    )
    assert reponse.status_code == 200
    assert "et non celui de la régie de Maison d'arrêt A" in texte(reponse)
    assert not ReleveBancaire.objects.exists()

    reponse = client_a.post(url("importer"), {"etablissement": etab_a.pk})
    assert "Choisissez le fichier du relevé." in texte(reponse)


def test_import_pour_un_autre_etablissement_refuse(client_a, etab_a, etab_b):
    contenu = releve_camt053(iban=IBAN_B, ecritures=[credit("50.00")])
    reponse = client_a.post(
        url("importer"), {"etablissement": etab_b.pk, "fichier": fichier(contenu)}
    )
    assert reponse.status_code == 200
    assert "Choisissez l'un de vos établissements." in texte(reponse)
    assert not ReleveBancaire.objects.exists()


def test_chef_d_etablissement_voit_mais_n_importe_pas(client, etab_a):
    client.force_login(agent("Chef d'établissement", etab_a))
    releve = releve_de(etab_a, [credit("10.00")])
    assert client.get(url("change", releve.pk)).status_code == 200
    assert "Importer un relevé camt.053" not in texte(client.get(url("changelist")))
    assert client.get(url("importer")).status_code == 403


def test_page_rapprochement(client_a, etab_a):
    execute = fabriques.virement(
        etab_a, "40.00", execute_le=fabriques.a_paris(datetime.date(2025, 6, 2))
    )
    ecart = fabriques.virement(etab_a, "50.00")
    releve_de(etab_a, [credit("45.00", e2e=ecart.reference), credit("20.00", e2e="PEC-ZZZZ-ZZZZ")])
    # One establishment: the choice page goes straight to it.
    reponse = client_a.get(url("rapprochement_choix"))
    assert reponse.status_code == 302
    assert reponse["Location"] == url("rapprochement", etab_a.pk)

    contenu = texte(client_a.get(url("rapprochement", etab_a.pk)))
    assert "Lignes non rapprochées (1)" in contenu and "PEC-ZZZZ-ZZZZ" in contenu
    assert "Écarts de montant (1)" in contenu and ecart.reference in contenu
    assert "Virements exécutés sans ligne de relevé (1)" in contenu
    assert execute.reference in contenu
