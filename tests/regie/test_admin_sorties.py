"""Money out in the back-office: the orders, the queue to validate, the batches and their
file, the régie's account; four eyes through the pages; nothing of another establishment
(pages, actions, lists, searches, files, counts)."""

import datetime
import uuid
from decimal import Decimal as D

import pytest
from django.urls import reverse
from lxml import etree

from regie import services
from regie.models import (
    NatureEcriture,
    OrdreVirement,
    Remise,
    StatutOrdre,
    StatutRemise,
)
from tests.factories import IBAN_PROCHE, DetenuFactory, EtablissementFactory, agent

pytestmark = pytest.mark.django_db

JOUR = datetime.date(2026, 7, 1)


def url(nom, *args):
    return reverse(f"admin:regie_{nom}", args=args)


def texte(reponse) -> str:
    return reponse.content.decode()


@pytest.fixture(autouse=True)
def _hachage_rapide(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _monde(code):
    etablissement = EtablissementFactory(code=code, nom=f"Centre {code}")
    regisseur = agent("Régisseur", etablissement)
    chef = agent("Chef d'établissement", etablissement)
    compte = DetenuFactory(etablissement=etablissement).compte
    services.encaisser_recette(
        compte=compte,
        montant=D("300.00"),
        nature=NatureEcriture.SALAIRE,
        source=f"paie-{code}",
        motif="Paie",
        auteur=regisseur,
        date_operation=JOUR,
    )
    envoi = services.debiter_part_disponible(
        compte=compte,
        montant=D("40.00"),
        nature=NatureEcriture.VIREMENT_SORTANT,
        source=f"envoi-{code}",
        motif="Envoi à sa mère",
        auteur=regisseur,
        beneficiaire="Mme MÈRE",
        iban=IBAN_PROCHE,
    )
    valide = services.debiter_part_disponible(
        compte=compte,
        montant=D("15.00"),
        nature=NatureEcriture.VIREMENT_SORTANT,
        source=f"envoi2-{code}",
        motif="Envoi à son frère",
        auteur=regisseur,
        beneficiaire="M. FRÈRE",
        iban=IBAN_PROCHE,
    ).ordres_virement.get()
    services.valider_ordre(ordre=valide, auteur=chef)
    remise = services.constituer_remise(etablissement=etablissement, auteur=regisseur)
    changement = services.proposer_changement_compte(
        etablissement=etablissement,
        titulaire="Nouvelle régie",
        iban="FR1420041010050500013M02606",
        motif="Nouveau compte",
        auteur=regisseur,
    )
    return {
        "etablissement": etablissement,
        "regisseur": regisseur,
        "chef": chef,
        "compte": compte,
        "ordre": envoi.ordres_virement.get(),
        "remise": remise,
        "changement": changement,
    }


@pytest.fixture
def a():
    return _monde("A")


@pytest.fixture
def b():
    return _monde("B")


def pages(monde):
    ordre, remise, changement = monde["ordre"], monde["remise"], monde["changement"]
    return [
        url("ordrevirement_change", ordre.pk),
        url("ordrevirement_refuser", ordre.pk),
        url("remise_change", remise.pk),
        url("changementcompteregie_change", changement.pk),
        url("changementcompteregie_decision", changement.pk),
    ]


def actions(monde):
    ordre, remise = monde["ordre"], monde["remise"]
    return [
        (url("ordrevirement_valider", ordre.pk), {}),
        (url("ordrevirement_refuser", ordre.pk), {"jeton": str(uuid.uuid4()), "motif": "x"}),
        (url("remise_fichier", remise.pk), {}),
        (url("remise_annuler", remise.pk), {}),
        (
            url("changementcompteregie_decision", monde["changement"].pk),
            {"jeton": str(uuid.uuid4()), "decision": "approuver"},
        ),
    ]


def test_rien_d_un_autre_etablissement(client, a, b):
    client.force_login(a["chef"])
    for adresse in pages(b):
        assert client.get(adresse).status_code == 404, adresse
    for adresse, donnees in actions(b):
        assert client.post(adresse, donnees).status_code == 404, adresse
    b["ordre"].refresh_from_db()
    b["remise"].refresh_from_db()
    assert b["ordre"].statut == StatutOrdre.PREPARE
    assert b["remise"].statut == StatutRemise.CONSTITUEE
    # Lists and searches show only one's own rows; the queue's count too.
    for modele, cle in (
        ("ordrevirement", "ordre"),
        ("remise", "remise"),
        ("changementcompteregie", "changement"),
    ):
        reponse = client.get(url(f"{modele}_changelist"))
        assert b[cle] not in list(reponse.context["cl"].queryset), modele
    reponse = client.get(url("ordrevirement_changelist"), {"q": b["ordre"].reference})
    assert list(reponse.context["cl"].queryset) == []
    reponse = client.get(url("ordrevirement_changelist"))
    assert "1 à valider" in texte(reponse)
    # The forms offer only one's own establishment.
    for formulaire in ("remise_add", "changementcompteregie_add"):
        choix = client.get(url(formulaire)).context["form"].fields["etablissement"].queryset
        assert list(choix) == [a["etablissement"]]


def test_ses_propres_pages_s_ouvrent(client, a, b):
    client.force_login(a["chef"])
    for adresse in pages(a):
        assert client.get(adresse).status_code == 200, adresse


def test_valider_refuser_par_les_pages(client, a):
    ordre = a["ordre"]
    # The preparer sees no « Valider »: a second person must.
    client.force_login(a["regisseur"])
    page = texte(client.get(url("ordrevirement_change", ordre.pk)))
    assert url("ordrevirement_valider", ordre.pk) not in page
    assert client.post(url("ordrevirement_valider", ordre.pk)).status_code == 403
    client.force_login(a["chef"])
    page = texte(client.get(url("ordrevirement_change", ordre.pk)))
    assert url("ordrevirement_valider", ordre.pk) in page and IBAN_PROCHE in page
    assert client.get(url("ordrevirement_valider", ordre.pk)).status_code == 405
    reponse = client.post(url("ordrevirement_valider", ordre.pk), follow=True)
    assert "validé : il partira avec la prochaine remise" in texte(reponse)
    reponse = client.post(url("ordrevirement_valider", ordre.pk), follow=True)
    assert "plus à valider" in texte(reponse)
    ordre.refresh_from_db()
    assert (ordre.statut, ordre.valide_par) == (StatutOrdre.VALIDE, a["chef"])


def test_le_preparateur_qui_a_le_droit_de_valider_est_refuse(client, a):
    chef = a["chef"]
    chef.groups.add(*a["regisseur"].groups.all())
    chef = type(chef).objects.get(pk=chef.pk)
    ordre = services.debiter_part_disponible(
        compte=a["compte"],
        montant=D("5.00"),
        nature=NatureEcriture.VIREMENT_SORTANT,
        source="par-le-chef",
        motif="Envoi",
        auteur=chef,
        beneficiaire="X",
        iban=IBAN_PROCHE,
    ).ordres_virement.get()
    client.force_login(chef)
    page = texte(client.get(url("ordrevirement_change", ordre.pk)))
    assert "une autre personne doit le valider" in page
    reponse = client.post(url("ordrevirement_valider", ordre.pk), follow=True)
    assert "une autre personne doit le valider ou le refuser" in texte(reponse).replace(
        "&#x27;", "'"
    )
    ordre.refresh_from_db()
    assert ordre.statut == StatutOrdre.PREPARE


def test_refus_avec_motif_remet_la_somme(client, a):
    ordre, compte = a["ordre"], a["compte"]
    compte.refresh_from_db()
    avant = compte.part_disponible
    client.force_login(a["chef"])
    reponse = client.post(
        url("ordrevirement_refuser", ordre.pk), {"jeton": str(uuid.uuid4()), "motif": ""}
    )
    assert reponse.status_code == 200 and "obligatoire" in texte(reponse)
    reponse = client.post(
        url("ordrevirement_refuser", ordre.pk),
        {"jeton": str(uuid.uuid4()), "motif": "RIB non signé"},
        follow=True,
    )
    assert "la somme est remise sur le compte nominatif" in texte(reponse)
    compte.refresh_from_db()
    assert compte.part_disponible == avant + D("40.00")


def test_la_remise_se_telecharge_une_fois(client, a):
    remise = a["remise"]
    client.force_login(a["regisseur"])
    page = texte(client.get(url("remise_change", remise.pk)))
    assert "15,00" in page and remise.reference in page
    assert client.get(url("remise_fichier", remise.pk)).status_code == 405
    reponse = client.post(url("remise_fichier", remise.pk))
    assert reponse.status_code == 200
    assert reponse["Content-Disposition"] == f'attachment; filename="{remise.reference}.xml"'
    document = etree.fromstring(reponse.content)
    assert (
        document.findtext(".//{urn:iso:std:iso:20022:tech:xsd:pain.001.001.03}CtrlSum") == "15.00"
    )
    seconde = client.post(url("remise_fichier", remise.pk), follow=True)
    assert "déjà été téléchargé" in texte(seconde)
    assert Remise.objects.get(pk=remise.pk).statut == StatutRemise.TRANSMISE
    annulation = client.post(url("remise_annuler", remise.pk), follow=True)
    assert "ne peut plus être annulée" in texte(annulation)


def test_constituer_puis_annuler_une_remise(client, a):
    services.valider_ordre(ordre=a["ordre"], auteur=a["chef"])
    client.force_login(a["regisseur"])
    reponse = client.post(
        url("remise_add"),
        {
            "jeton": str(uuid.uuid4()),
            "etablissement": a["etablissement"].pk,
            "version": "pain.001.001.09",
            "date_execution": JOUR.isoformat(),
        },
    )
    assert reponse.status_code == 302
    remise = Remise.objects.filter(version="pain.001.001.09").get()
    assert list(remise.ordres.all()) == [a["ordre"]]
    client.post(url("remise_annuler", remise.pk))
    assert OrdreVirement.objects.get(pk=a["ordre"].pk).statut == StatutOrdre.VALIDE
    # No validated order left: a clear message, nothing created.
    services.constituer_remise(etablissement=a["etablissement"], auteur=a["regisseur"])
    reponse = client.post(
        url("remise_add"),
        {
            "jeton": str(uuid.uuid4()),
            "etablissement": a["etablissement"].pk,
            "version": "pain.001.001.03",
            "date_execution": JOUR.isoformat(),
        },
    )
    assert "Aucun ordre validé" in texte(reponse)


def test_le_compte_montre_ses_ordres(client, a):
    client.force_login(a["regisseur"])
    page = texte(client.get(url("comptenominatif_change", a["compte"].pk)))
    assert 'id="ordres-virement"' in page and a["ordre"].reference in page


def test_a_faire_des_sorties_de_fonds(client, a, b):
    """The home page's « À faire » counts what waits in the user's own establishment only:
    orders to validate (never one the user prepared: four eyes), remittances to download,
    proposed changes of the régie's account (never the user's own proposal)."""
    from django.contrib.auth.models import Group

    # A chef who is also régisseur prepares one order: not his to validate.
    chef = a["chef"]
    chef.groups.add(Group.objects.get(name="Régisseur"))
    chef = type(chef).objects.get(pk=chef.pk)
    services.debiter_part_disponible(
        compte=a["compte"],
        montant=D("5.00"),
        nature=NatureEcriture.VIREMENT_SORTANT,
        source="envoi-du-chef",
        motif="Envoi préparé par le chef",
        auteur=chef,
        beneficiaire="Mme MÈRE",
        iban=IBAN_PROCHE,
    )

    def a_faire(utilisateur):
        client.force_login(utilisateur)
        page = texte(client.get(reverse("admin:index")))
        debut = page.index('id="a-faire"')
        return " ".join(page[debut : page.index("</ul>", debut)].split())

    page_chef = a_faire(chef)
    # Two orders prepared in A, one by the chef: one for him to validate; B's are not his.
    assert "<strong>1</strong> ordre de virement à valider ou refuser" in page_chef
    assert "<strong>1</strong> remise à transmettre" in page_chef
    assert "<strong>1</strong> changement du compte bancaire de la régie à approuver" in page_chef
    regisseur = a_faire(a["regisseur"])
    assert "<strong>1</strong> remise à transmettre" in regisseur
    assert "à valider ou refuser" not in regisseur  # no right to validate
    assert "compte bancaire de la régie" not in regisseur  # his own proposal
    services.valider_ordre(ordre=a["ordre"], auteur=chef)
    assert "<strong>1</strong> ordre validé à mettre dans une remise" in a_faire(a["regisseur"])
