"""The back-office shows a staff member only the establishments they are attached to.

Another establishment's object answers 404 (not a redirect, not a 403 that would confirm
that it exists); changelists and foreign-key choices list only one's own rows.
"""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from regie import services
from regie.models import (
    AutorisationD422,
    ChoixReliquat,
    Ecriture,
    NatureEcriture,
)
from tests.factories import DetenuFactory, EtablissementFactory, UtilisateurFactory, agent

pytestmark = pytest.mark.django_db

JOUR = datetime.date(2025, 6, 16)


@pytest.fixture(autouse=True)
def _hachage_rapide(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def recette(compte, montant, source):
    return services.encaisser_recette(
        compte=compte,
        montant=Decimal(montant),
        nature=NatureEcriture.SALAIRE,
        source=source,
        motif="Salaire",
        auteur_systeme="test",
        date_operation=JOUR,
    )


@pytest.fixture
def etab_a():
    return EtablissementFactory(code="A", nom="Maison d'arrêt A")


@pytest.fixture
def etab_b():
    return EtablissementFactory(code="B", nom="Centre de détention B")


@pytest.fixture
def regisseur_a(etab_a):
    return agent("Régisseur", etab_a)


@pytest.fixture
def monde(etab_a, etab_b):
    """One detainee in each establishment, each with an entry, a D.422 request and a
    permission de sortir."""
    objets = {}
    for cle, etablissement in (("a", etab_a), ("b", etab_b)):
        detenu = DetenuFactory(etablissement=etablissement)
        compte = detenu.compte
        ecriture = recette(compte, "150.00", f"test:{cle}")
        regisseur = agent("Régisseur", etablissement)
        autorisation = services.demander_d422(
            detenu=detenu,
            montant=Decimal("80.00"),
            objet="Lunettes",
            emetteur_attendu="Sa sœur",
            reliquat=ChoixReliquat.REPARTIR,
            date_demande=JOUR,
            auteur=regisseur,
        )
        permission = services.fixer_permission_sortie(
            compte=compte,
            montant=Decimal("20.00"),
            date_sortie=JOUR,
            auteur=agent("Chef d'établissement", etablissement),
        )
        objets[cle] = {
            "detenu": detenu,
            "compte": compte,
            "ecriture": ecriture,
            "autorisation": autorisation,
            "permission": permission,
        }
    return objets


def urls_de(objets):
    compte, detenu = objets["compte"], objets["detenu"]
    autorisation = objets["autorisation"]
    return [
        reverse("admin:regie_comptenominatif_change", args=[compte.pk]),
        reverse("admin:regie_comptenominatif_history", args=[compte.pk]),
        reverse("admin:regie_comptenominatif_releve", args=[compte.pk]),
        reverse("admin:regie_comptenominatif_recette", args=[compte.pk]),
        reverse("admin:regie_comptenominatif_debit", args=[compte.pk]),
        reverse("admin:regie_comptenominatif_transfert", args=[compte.pk]),
        reverse("admin:regie_comptenominatif_contrepassation", args=[compte.pk]),
        reverse(
            "admin:regie_comptenominatif_permission_remise",
            args=[compte.pk, objets["permission"].pk],
        ),
        reverse("admin:regie_detenu_change", args=[detenu.pk]),
        reverse("admin:regie_detenu_history", args=[detenu.pk]),
        reverse("admin:regie_autorisationd422_change", args=[autorisation.pk]),
        reverse("admin:regie_autorisationd422_magistrat", args=[autorisation.pk]),
        reverse("admin:regie_autorisationd422_renonciation", args=[autorisation.pk]),
        reverse("admin:regie_ecriture_change", args=[objets["ecriture"].pk]),
        reverse("admin:regie_permissionsortie_change", args=[objets["permission"].pk]),
        reverse("admin:regie_etablissement_change", args=[detenu.etablissement_id]),
    ]


def test_un_regisseur_voit_ses_propres_objets(client, monde, regisseur_a):
    client.force_login(regisseur_a)
    for url in urls_de(monde["a"]):
        assert client.get(url).status_code == 200, url


def test_les_objets_d_un_autre_etablissement_repondent_404(client, monde, regisseur_a):
    client.force_login(regisseur_a)
    for url in urls_de(monde["b"]):
        assert client.get(url).status_code == 404, url


def test_un_objet_inexistant_repond_404_et_non_une_redirection(client, monde, regisseur_a):
    client.force_login(regisseur_a)
    for nom in ("comptenominatif", "detenu", "autorisationd422", "ecriture", "etablissement"):
        assert client.get(reverse(f"admin:regie_{nom}_change", args=[987654])).status_code == 404
        assert client.get(f"/admin/regie/{nom}/pas-un-nombre/change/").status_code == 404


def test_aucune_ecriture_sur_le_compte_d_un_autre_etablissement(client, monde, regisseur_a):
    client.force_login(regisseur_a)
    compte_b = monde["b"]["compte"]
    avant = Ecriture.objects.count()
    reponse = client.post(
        reverse("admin:regie_comptenominatif_recette", args=[compte_b.pk]),
        {
            "jeton": "4b0f7c1e-8a37-4a3c-9d55-0b0f7c1e8a37",
            "nature": NatureEcriture.SALAIRE,
            "montant": "50",
            "date_operation": JOUR.isoformat(),
            "motif": "Tentative",
        },
    )
    assert reponse.status_code == 404
    assert Ecriture.objects.count() == avant
    compte_b.refresh_from_db()
    assert compte_b.part_disponible == Decimal("150.00")


def test_un_regisseur_ne_peut_pas_decider_la_demande_d_un_autre_etablissement(
    client, monde, etab_a
):
    chef_a = agent("Chef d'établissement", etab_a)
    client.force_login(chef_a)
    autorisation = monde["b"]["autorisation"]
    reponse = client.post(
        reverse("admin:regie_autorisationd422_decision", args=[autorisation.pk]),
        {"jeton": "4b0f7c1e-8a37-4a3c-9d55-0b0f7c1e8a38", "decision": "autoriser", "motif": "x"},
    )
    assert reponse.status_code == 404
    autorisation.refresh_from_db()
    assert autorisation.statut == "demandee"


@pytest.mark.parametrize(
    ("modele", "cle"),
    [
        ("detenu", "detenu"),
        ("comptenominatif", "compte"),
        ("ecriture", "ecriture"),
        ("autorisationd422", "autorisation"),
        ("permissionsortie", "permission"),
    ],
)
def test_les_listes_ne_montrent_que_son_etablissement(client, monde, regisseur_a, modele, cle):
    client.force_login(regisseur_a)
    reponse = client.get(reverse(f"admin:regie_{modele}_changelist"))
    assert reponse.status_code == 200
    assert list(reponse.context["cl"].queryset) == [monde["a"][cle]]
    # A filter in the URL cannot widen the scope.
    etab_b = monde["b"]["detenu"].etablissement
    chemin = {
        "detenu": "etablissement__id__exact",
        "comptenominatif": "detenu__etablissement__id__exact",
        "ecriture": "etablissement__id__exact",
        "autorisationd422": "etablissement__id__exact",
    }.get(modele)
    if chemin:
        reponse = client.get(reverse(f"admin:regie_{modele}_changelist"), {chemin: etab_b.pk})
        assert monde["b"][cle] not in list(reponse.context["cl"].queryset)


def test_la_liste_des_etablissements(client, monde, regisseur_a, etab_a):
    client.force_login(regisseur_a)
    reponse = client.get(reverse("admin:regie_etablissement_changelist"))
    assert list(reponse.context["cl"].queryset) == [etab_a]


def test_un_superutilisateur_voit_tout(client, monde):
    admin = UtilisateurFactory(is_superuser=True)
    client.force_login(admin)
    reponse = client.get(reverse("admin:regie_comptenominatif_changelist"))
    assert set(reponse.context["cl"].queryset) == {monde["a"]["compte"], monde["b"]["compte"]}
    for url in urls_de(monde["b"]):
        assert client.get(url).status_code == 200, url


def test_les_choix_des_formulaires_sont_limites_a_son_etablissement(
    client, monde, regisseur_a, etab_a, etab_b
):
    client.force_login(regisseur_a)
    reponse = client.get(reverse("admin:regie_detenu_add"))
    assert list(reponse.context["adminform"].form.fields["etablissement"].queryset) == [etab_a]

    reponse = client.get(reverse("admin:regie_autorisationd422_add"))
    assert list(reponse.context["form"].fields["detenu"].queryset) == [monde["a"]["detenu"]]

    # Posting another establishment's id is refused by the form.
    reponse = client.post(
        reverse("admin:regie_detenu_add"),
        {
            "etablissement": etab_b.pk,
            "numero_ecrou": "999001",
            "nom": "INTRUS",
            "prenoms": "Paul",
            "date_naissance": "01/02/1990",
            "statut_penal": "condamne",
            "regime": "ordinaire",
        },
    )
    assert reponse.status_code == 200
    assert "etablissement" in reponse.context["adminform"].form.errors
    assert not monde["b"]["detenu"].etablissement.detenus.filter(nom="INTRUS").exists()

    reponse = client.post(
        reverse("admin:regie_autorisationd422_add"),
        {
            "jeton": "4b0f7c1e-8a37-4a3c-9d55-0b0f7c1e8a39",
            "detenu": monde["b"]["detenu"].pk,
            "montant": "50",
            "objet": "Prothèse",
            "emetteur_attendu": "Sa mère",
            "reliquat": ChoixReliquat.REPARTIR,
            "date_demande": JOUR.isoformat(),
        },
    )
    assert reponse.status_code == 200
    assert "detenu" in reponse.context["form"].errors
    assert AutorisationD422.objects.filter(detenu=monde["b"]["detenu"]).count() == 1


def test_apres_un_transfert_chaque_regie_voit_ce_qu_elle_doit_voir(
    client, etab_a, etab_b, regisseur_a
):
    detenu = DetenuFactory(etablissement=etab_a)
    compte = detenu.compte
    ancienne = recette(compte, "150.00", "test:avant-transfert")
    client.force_login(regisseur_a)
    reponse = client.post(
        reverse("admin:regie_comptenominatif_transfert", args=[compte.pk]),
        {
            "jeton": "0d6c4b34-6e2f-4a8b-9b59-0d6c4b346e2f",
            "vers": etab_b.pk,
            "nouveau_numero_ecrou": "B-42",
            "date_operation": JOUR.isoformat(),
        },
    )
    assert reponse.status_code == 302
    detenu.refresh_from_db()
    assert detenu.etablissement == etab_b
    assert detenu.numero_ecrou == "B-42"

    # The origin no longer keeps the account...
    url_compte = reverse("admin:regie_comptenominatif_change", args=[compte.pk])
    assert client.get(url_compte).status_code == 404
    # ...but still sees the entries its régie booked, including the outgoing transfer.
    reponse = client.get(reverse("admin:regie_ecriture_changelist"))
    natures_a = {e.nature for e in reponse.context["cl"].queryset}
    assert natures_a == {NatureEcriture.SALAIRE, NatureEcriture.TRANSFERT_SORTANT}
    assert client.get(reverse("admin:regie_ecriture_change", args=[ancienne.pk])).status_code == 200

    # The destination keeps the account and sees its whole history.
    regisseur_b = agent("Régisseur", etab_b)
    client.force_login(regisseur_b)
    assert client.get(url_compte).status_code == 200
    reponse = client.get(reverse("admin:regie_ecriture_changelist"))
    assert {e.nature for e in reponse.context["cl"].queryset} == {
        NatureEcriture.SALAIRE,
        NatureEcriture.TRANSFERT_SORTANT,
        NatureEcriture.TRANSFERT_ENTRANT,
    }


def test_les_affectations_sont_reservees_aux_superutilisateurs(client, monde, regisseur_a):
    client.force_login(regisseur_a)
    assert client.get(reverse("admin:regie_affectation_changelist")).status_code == 403
    index = client.get(reverse("admin:index"))
    assert reverse("admin:regie_affectation_changelist") not in index.content.decode()
    client.force_login(UtilisateurFactory(is_superuser=True))
    assert client.get(reverse("admin:regie_affectation_changelist")).status_code == 200


def test_un_agent_sans_affectation_ne_voit_rien(client, monde):
    sans_affectation = agent("Régisseur")
    client.force_login(sans_affectation)
    reponse = client.get(reverse("admin:regie_comptenominatif_changelist"))
    assert list(reponse.context["cl"].queryset) == []
    for url in urls_de(monde["a"]):
        assert client.get(url).status_code == 404, url
