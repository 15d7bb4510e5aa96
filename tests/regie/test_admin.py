"""The régisseurs' back-office: account page, movement forms, D.422 workflow, CSV export.

Every form calls a service; these tests check what a person sees (French messages) and
what is written (or not) in the ledger.
"""

import csv
import datetime
import html
import io
import re
import uuid
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.messages import get_messages
from django.urls import reverse

from regie import admin_views, services
from regie.models import (
    AutorisationD422,
    ChangementCompteRegie,
    ChoixReliquat,
    CompteNominatif,
    Detenu,
    Ecriture,
    EvenementD422,
    LigneEcriture,
    NatureEcriture,
    PermissionSortie,
    Regime,
    StatutD422,
    StatutPenal,
    StatutPermission,
)
from tests.factories import DetenuFactory, EtablissementFactory, UtilisateurFactory, agent

pytestmark = pytest.mark.django_db

D = Decimal
# A past day outside December (the December allowance is 400 €), so the split is the
# one of the spec's ordinary examples.
JOUR = datetime.date(2025, 6, 16)


@pytest.fixture(autouse=True)
def _hachage_rapide(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def etab():
    return EtablissementFactory(code="MA1", nom="Maison d'arrêt de Test")


@pytest.fixture
def regisseur(etab):
    return agent("Régisseur", etab)


@pytest.fixture
def chef(etab):
    return agent("Chef d'établissement", etab)


@pytest.fixture
def detenu(etab):
    return DetenuFactory(etablissement=etab, nom="MARTIN", prenoms="Luc")


@pytest.fixture
def compte(detenu):
    return detenu.compte


def texte(reponse) -> str:
    return html.unescape(reponse.content.decode())


def messages_de(reponse) -> list[str]:
    return [str(m) for m in get_messages(reponse.wsgi_request)]


def url(nom: str, *args) -> str:
    return reverse(f"admin:regie_{nom}", args=args)


def jeton() -> str:
    return str(uuid.uuid4())


def recette(compte, montant, *, nature=NatureEcriture.SALAIRE, jour=JOUR, motif="Salaire"):
    return services.encaisser_recette(
        compte=compte,
        montant=D(montant),
        nature=nature,
        source=f"test:{uuid.uuid4()}",
        motif=motif,
        auteur_systeme="test",
        date_operation=jour,
    )


def debit(compte, montant, *, nature=NatureEcriture.CANTINE, jour=JOUR, motif="Cantine"):
    return services.debiter_part_disponible(
        compte=compte,
        montant=D(montant),
        nature=nature,
        source=f"test:{uuid.uuid4()}",
        motif=motif,
        auteur_systeme="test",
        date_operation=jour,
    )


def soldes(compte):
    compte.refresh_from_db()
    return (compte.parties_civiles, compte.pecule_liberation, compte.part_disponible)


def poster_recette(client, compte, montant, *, jeton_=None, nature=NatureEcriture.SALAIRE):
    return client.post(
        url("comptenominatif_recette", compte.pk),
        {
            "jeton": jeton_ or jeton(),
            "nature": nature,
            "montant": montant,
            "date_operation": JOUR.isoformat(),
            "motif": "Salaire de juin",
            "piece": "BP-2025-06",
        },
    )


def poster_debit(client, compte, montant, *, nature=NatureEcriture.CANTINE):
    return client.post(
        url("comptenominatif_debit", compte.pk),
        {
            "jeton": jeton(),
            "nature": nature,
            "montant": montant,
            "date_operation": JOUR.isoformat(),
            "motif": "Bon de cantine n° 12",
        },
    )


# --- Account page ---------------------------------------------------------------------


def test_une_recette_saisie_dans_l_admin_est_repartie(client, regisseur, compte):
    client.force_login(regisseur)
    formulaire = client.get(url("comptenominatif_recette", compte.pk))
    assert formulaire.status_code == 200
    jeton_affiche = formulaire.context["form"]["jeton"].value()
    assert uuid.UUID(str(jeton_affiche))

    reponse = poster_recette(client, compte, "250,00", jeton_=str(jeton_affiche))

    assert reponse.status_code == 302
    assert reponse["Location"] == url("comptenominatif_change", compte.pk)
    assert soldes(compte) == (D("10.00"), D("5.00"), D("235.00"))
    ecriture = Ecriture.objects.get(compte=compte)
    assert ecriture.source == f"admin:{jeton_affiche}"
    assert ecriture.auteur == regisseur
    assert ecriture.piece == "BP-2025-06"
    assert ecriture.motif == "Salaire de juin"
    assert any("écriture n°" in m and "235,00" in m for m in messages_de(reponse))

    page = texte(client.get(url("comptenominatif_change", compte.pk)))
    assert re.search(r'id="solde-parties-civiles">10,00 €', page)
    assert re.search(r'id="solde-pecule-liberation">5,00 €', page)
    assert re.search(r'id="solde-part-disponible">235,00 €', page)
    assert "Salaire de juin" in page
    assert "concordent avec les écritures" in page


def test_le_capital_d_une_rente_at_va_au_pecule(client, regisseur, compte):
    client.force_login(regisseur)
    reponse = poster_recette(client, compte, "300", nature=NatureEcriture.CAPITAL_RENTE_AT)
    assert reponse.status_code == 302
    assert soldes(compte) == (D("0.00"), D("300.00"), D("0.00"))


def test_un_double_envoi_du_meme_formulaire_n_enregistre_qu_une_fois(client, regisseur, compte):
    client.force_login(regisseur)
    meme_jeton = jeton()
    premiere = poster_recette(client, compte, "250", jeton_=meme_jeton)
    seconde = poster_recette(client, compte, "250", jeton_=meme_jeton)

    assert premiere.status_code == seconde.status_code == 302
    assert Ecriture.objects.filter(compte=compte).count() == 1
    assert soldes(compte) == (D("10.00"), D("5.00"), D("235.00"))
    avertissements = messages_de(seconde)
    assert any("déjà été enregistrée" in m for m in avertissements)


def test_deux_formulaires_distincts_enregistrent_deux_fois(client, regisseur, compte):
    client.force_login(regisseur)
    poster_recette(client, compte, "100")
    poster_recette(client, compte, "100")
    assert Ecriture.objects.filter(compte=compte).count() == 2
    assert soldes(compte)[2] == D("200.00")


def test_un_debit_superieur_a_la_part_disponible_est_refuse(client, regisseur, compte):
    recette(compte, "100.00")
    client.force_login(regisseur)
    reponse = poster_debit(client, compte, "150,00")

    assert reponse.status_code == 200
    assert (
        "Solde insuffisant sur la part disponible : 100,00 € disponibles pour un débit de "
        "150,00 €." in texte(reponse)
    )
    assert Ecriture.objects.filter(compte=compte).count() == 1
    assert soldes(compte) == (D("0.00"), D("0.00"), D("100.00"))


def test_un_debit_dans_la_limite_est_passe(client, regisseur, compte):
    recette(compte, "100.00")
    client.force_login(regisseur)
    reponse = poster_debit(client, compte, "40", nature=NatureEcriture.LOCATION)
    assert reponse.status_code == 302
    assert soldes(compte)[2] == D("60.00")
    assert Ecriture.objects.filter(compte=compte, nature=NatureEcriture.LOCATION).exists()


@pytest.mark.parametrize(
    ("montant", "message"),
    [
        ("0", "Le montant doit être strictement positif."),
        ("-5", "Le montant doit être strictement positif."),
        ("0,00", "Le montant doit être strictement positif."),
        ("12,345", "Le montant ne peut pas avoir plus de deux décimales (centimes)."),
        ("1.005", "Le montant ne peut pas avoir plus de deux décimales (centimes)."),
        ("douze", "Saisissez un montant en euros, par exemple 12,50."),
        ("", "Indiquez le montant."),
        ("99999999999", "Le montant est trop élevé."),
    ],
)
def test_les_montants_invalides_sont_refuses_en_francais(
    client, regisseur, compte, montant, message
):
    client.force_login(regisseur)
    reponse = poster_recette(client, compte, montant)
    assert reponse.status_code == 200
    assert message in texte(reponse)
    assert not Ecriture.objects.filter(compte=compte).exists()


def test_un_montant_avec_virgule_ou_zero_final_est_accepte(client, regisseur, compte):
    client.force_login(regisseur)
    assert poster_recette(client, compte, "12,5").status_code == 302
    assert poster_recette(client, compte, "7.250").status_code == 302
    assert soldes(compte)[2] == D("19.75")


def test_le_motif_est_obligatoire(client, regisseur, compte):
    client.force_login(regisseur)
    reponse = client.post(
        url("comptenominatif_recette", compte.pk),
        {
            "jeton": jeton(),
            "nature": NatureEcriture.SALAIRE,
            "montant": "10",
            "date_operation": JOUR.isoformat(),
            "motif": "   ",
        },
    )
    assert reponse.status_code == 200
    assert "Le motif de l'opération est obligatoire." in texte(reponse)
    assert not Ecriture.objects.exists()


def test_un_formulaire_sans_jeton_est_refuse(client, regisseur, compte):
    client.force_login(regisseur)
    reponse = client.post(
        url("comptenominatif_recette", compte.pk),
        {
            "nature": NatureEcriture.SALAIRE,
            "montant": "10",
            "date_operation": JOUR.isoformat(),
            "motif": "Salaire",
        },
    )
    assert reponse.status_code == 200
    assert "Ce formulaire a expiré" in texte(reponse)
    assert not Ecriture.objects.exists()


def test_une_date_future_est_refusee(client, regisseur, compte):
    client.force_login(regisseur)
    reponse = client.post(
        url("comptenominatif_recette", compte.pk),
        {
            "jeton": jeton(),
            "nature": NatureEcriture.SALAIRE,
            "montant": "10",
            "date_operation": "2999-01-01",
            "motif": "Salaire",
        },
    )
    assert "La date d'opération ne peut pas être dans le futur." in texte(reponse)
    assert not Ecriture.objects.exists()


def test_sans_le_droit_de_passer_des_ecritures_le_formulaire_est_interdit(client, chef, compte):
    client.force_login(chef)  # the head sees the account but does not book entries
    assert client.get(url("comptenominatif_change", compte.pk)).status_code == 200
    assert client.get(url("comptenominatif_recette", compte.pk)).status_code == 403
    assert poster_recette(client, compte, "10").status_code == 403
    assert not Ecriture.objects.exists()


def test_la_page_du_compte_montre_compteurs_blocages_et_boutons(client, regisseur, chef, compte):
    recette(compte, "250.00")
    autorisation = services.demander_d422(
        detenu=compte.detenu,
        montant=D("120.00"),
        objet="Ordinateur pour une formation",
        emetteur_attendu="Sa mère",
        reliquat=ChoixReliquat.REPARTIR,
        date_demande=JOUR,
        auteur=regisseur,
    )
    services.decider_d422(autorisation=autorisation, accorder=True, motif="Formation", auteur=chef)
    services.encaisser_subside_d422(
        autorisation=autorisation,
        montant=D("120.00"),
        source="test:d422",
        motif="Virement de la mère",
        auteur_systeme="test",
        date_operation=JOUR,
    )
    client.force_login(regisseur)
    reponse = client.get(url("comptenominatif_change", compte.pk))
    page = texte(reponse)

    assert reponse.context["sommes_bloquees"][0]["montant"] == D("120.00")
    assert re.search(r'id="solde-bloque">120,00 €', page)
    assert re.search(r'id="solde-libre"><strong>235,00 €', page)
    assert "06/2025" in page and "250,00 €" in page  # June's counter
    assert f"n° {autorisation.pk}" in page
    assert url("comptenominatif_recette", compte.pk) in page
    assert url("comptenominatif_releve", compte.pk) in page
    # The régisseur is not offered what only the head may do.
    assert url("comptenominatif_permission", compte.pk) not in page
    assert url("comptenominatif_deblocage", compte.pk) not in page

    client.force_login(chef)
    page = texte(client.get(url("comptenominatif_change", compte.pk)))
    assert url("comptenominatif_permission", compte.pk) in page
    assert url("comptenominatif_recette", compte.pk) not in page


def test_la_page_du_compte_signale_un_ecart_avec_le_registre(client, regisseur, compte):
    recette(compte, "100.00")
    client.force_login(regisseur)
    assert "concordent avec les écritures" in texte(
        client.get(url("comptenominatif_change", compte.pk))
    )

    CompteNominatif.objects.filter(pk=compte.pk).update(part_disponible=D("999.00"))
    reponse = client.get(url("comptenominatif_change", compte.pk))
    page = texte(reponse)
    assert "ne concordent pas" in page
    assert "part_disponible: stocké 999.00, écritures 100.00" in page
    assert "concordent avec les écritures." not in page


def test_le_releve_se_filtre_et_se_pagine(client, regisseur, compte, monkeypatch):
    monkeypatch.setattr(admin_views, "PAR_PAGE", 2)
    recette(compte, "100.00", jour=datetime.date(2025, 5, 10), motif="Salaire de mai")
    recette(compte, "100.00", jour=datetime.date(2025, 6, 10), motif="Salaire de juin")
    debit(compte, "10.00", jour=datetime.date(2025, 6, 11), motif="Cantine du 11")
    debit(compte, "5.00", jour=datetime.date(2025, 6, 12), motif="Cantine du 12")
    debit(compte, "7.00", nature=NatureEcriture.LOCATION, jour=datetime.date(2025, 6, 13))
    client.force_login(regisseur)
    page_compte = url("comptenominatif_change", compte.pk)

    reponse = client.get(page_compte)
    assert reponse.context["page"].paginator.count == 5
    assert len(reponse.context["lignes"]) == 2
    suivante = client.get(page_compte, {"page": 3})
    assert [ligne["ecriture"].motif for ligne in suivante.context["lignes"]] == ["Salaire de mai"]

    cantine = client.get(page_compte, {"nature": NatureEcriture.CANTINE})
    assert {ligne["ecriture"].motif for ligne in cantine.context["lignes"]} == {
        "Cantine du 11",
        "Cantine du 12",
    }
    juin = client.get(page_compte, {"date_du": "2025-06-01", "date_au": "2025-06-11"})
    assert [ligne["ecriture"].motif for ligne in juin.context["lignes"]] == [
        "Cantine du 11",
        "Salaire de juin",
    ]
    # The filters are kept on the next page and in the export link.
    page = texte(client.get(page_compte, {"nature": NatureEcriture.CANTINE}))
    assert f"{url('comptenominatif_releve', compte.pk)}?nature=cantine" in page


# --- CSV export -----------------------------------------------------------------------


def lire_csv(reponse):
    contenu = reponse.content.decode("utf-8")
    assert contenu.startswith("\ufeff")
    lignes = list(csv.reader(io.StringIO(contenu[1:]), delimiter=";"))
    return lignes[0], lignes[1:]


def euros(valeur: str) -> Decimal:
    return D(valeur.replace(",", "."))


def test_l_export_csv_correspond_au_registre(client, regisseur, compte):
    recette(compte, "250.00")
    debit(compte, "20.50", motif='=HYPERLINK("http://exemple")')
    services.crediter_capital_rente_accident_travail(
        compte=compte,
        montant=D("1234.56"),
        source="test:at",
        motif="Capital rente AT",
        auteur=regisseur,
        date_operation=JOUR,
    )
    client.force_login(regisseur)
    reponse = client.get(url("comptenominatif_releve", compte.pk))

    assert reponse.status_code == 200
    assert reponse["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment;" in reponse["Content-Disposition"]
    entete, lignes = lire_csv(reponse)
    assert entete == admin_views.ENTETES_CSV
    ecritures = {e.pk: e for e in compte.ecritures.prefetch_related("lignes")}
    assert sorted(int(ligne[2]) for ligne in lignes) == sorted(ecritures)
    for ligne in lignes:
        ecriture = ecritures[int(ligne[2])]
        assert ligne[0] == f"{ecriture.date_operation:%d/%m/%Y}"
        assert ligne[3] == ecriture.get_nature_display()
        assert euros(ligne[13]) == ecriture.montant
        for colonne, partie in (
            (9, "parties_civiles"),
            (10, "pecule_liberation"),
            (11, "part_disponible"),
        ):
            attendu = sum(
                (lg.montant for lg in ecriture.lignes.all() if lg.partie == partie), D("0")
            )
            assert euros(ligne[colonne]) == attendu
    # Summing the export gives back the balances.
    p1, pl, pd = soldes(compte)
    assert sum(euros(ligne[9]) for ligne in lignes) == p1 == D("10.00")
    assert sum(euros(ligne[10]) for ligne in lignes) == pl == D("1239.56")
    assert sum(euros(ligne[11]) for ligne in lignes) == pd == D("214.50")
    # French decimal comma, author and neutralised formula.
    par_nature = {ligne[3]: ligne for ligne in lignes}
    assert par_nature["Capital d'une rente d'accident du travail"][13] == "1234,56"
    assert (
        par_nature["Capital d'une rente d'accident du travail"][7] == "Agent " + regisseur.last_name
    )
    assert par_nature["Cantine"][4] == '\'=HYPERLINK("http://exemple")'
    assert par_nature["Cantine"][11] == "-20,50"


def test_l_export_csv_suit_les_filtres(client, regisseur, compte):
    recette(compte, "100.00")
    debit(compte, "10.00")
    debit(compte, "3.00", nature=NatureEcriture.LOCATION)
    client.force_login(regisseur)
    reponse = client.get(url("comptenominatif_releve", compte.pk), {"nature": "cantine"})
    _entete, lignes = lire_csv(reponse)
    assert [(ligne[3], ligne[11]) for ligne in lignes] == [("Cantine", "-10,00")]

    reponse = client.get(url("comptenominatif_releve", compte.pk), {"date_du": "2999-01-01"})
    assert lire_csv(reponse)[1] == []


def test_l_export_csv_neutralise_toutes_les_colonnes_de_texte(client, regisseur, etab, compte):
    """Issue 11 item 11: not only the free-text columns. The establishment's name, typed by
    whoever set up the establishment, is a text column like any other; amounts stay numbers
    (a debit is negative)."""
    etab.nom = '=HYPERLINK("http://exemple/?"&A1;"Cliquez")'
    etab.save(update_fields=["nom"])
    recette(compte, "250.00")
    services.debiter_part_disponible(
        compte=compte,
        montant=D("20.50"),
        nature=NatureEcriture.CANTINE,
        source="-source",
        motif="+SOMME(A1:A9)",
        piece="@piece",
        auteur_systeme="test",
        date_operation=JOUR,
    )
    client.force_login(regisseur)
    _entete, lignes = lire_csv(client.get(url("comptenominatif_releve", compte.pk)))
    assert lignes
    for ligne in lignes:
        assert ligne[8] == "'" + etab.nom
        # No text cell of the export starts with a formula character.
        for colonne in (3, 4, 5, 6, 7, 8):
            assert not ligne[colonne].startswith(tuple("=+-@\t\r"))
    debit_ = next(ligne for ligne in lignes if ligne[3] == "Cantine")
    assert debit_[4:7] == ["'+SOMME(A1:A9)", "'@piece", "'-source"]
    assert debit_[11] == "-20,50" and debit_[13] == "20,50"


def test_l_export_demande_la_permission_exporter_releve(client, etab, compte):
    lecteur = UtilisateurFactory()
    lecteur.user_permissions.add(
        Permission.objects.get(codename="view_comptenominatif", content_type__app_label="regie")
    )
    etab.affectations.create(utilisateur=lecteur)
    client.force_login(lecteur)
    assert client.get(url("comptenominatif_change", compte.pk)).status_code == 200
    assert client.get(url("comptenominatif_releve", compte.pk)).status_code == 403


# --- Other movements ------------------------------------------------------------------


def test_paiement_des_parties_civiles(client, regisseur, compte):
    recette(compte, "600.00")  # 90.00 to part 1
    client.force_login(regisseur)
    donnees = {
        "jeton": jeton(),
        "montant": "100",
        "type_creancier": "victime",
        "beneficiaire": "Mme Victime",
        "iban": "FR76 3000 6000 0112 3456 7890 286",
        "date_operation": JOUR.isoformat(),
        "motif": "Réquisition du procureur",
        "piece": "PR-2025-1",
    }
    # A wrong IBAN is refused with what is wrong, and nothing is written.
    reponse = client.post(
        url("comptenominatif_parties_civiles", compte.pk),
        {**donnees, "montant": "90", "iban": "FR76 3000 6000 0112 3456 7890 287"},
    )
    assert "IBAN du bénéficiaire invalide : la clé de contrôle de l'IBAN est fausse." in texte(
        reponse
    )
    assert not Ecriture.objects.filter(nature=NatureEcriture.PAIEMENT_VICTIMES).exists()
    reponse = client.post(url("comptenominatif_parties_civiles", compte.pk), donnees)
    assert reponse.status_code == 200
    assert "Solde insuffisant sur la part des parties civiles : 90,00 € disponibles." in texte(
        reponse
    )
    donnees["montant"] = "90"
    reponse = client.post(url("comptenominatif_parties_civiles", compte.pk), donnees)
    assert reponse.status_code == 302
    assert soldes(compte)[0] == D("0.00")
    paiement = Ecriture.objects.get(nature=NatureEcriture.PAIEMENT_VICTIMES)
    assert "Mme Victime" in paiement.motif
    ordre = paiement.ordres_virement.get()
    assert (ordre.beneficiaire_iban, ordre.montant, ordre.prepare_par) == (
        "FR7630006000011234567890286",
        D("90.00"),
        regisseur,
    )


def test_le_deblocage_du_pecule_est_reserve_au_chef(client, regisseur, chef, compte):
    recette(compte, "600.00")  # 40.00 to the pécule
    donnees = {
        "jeton": jeton(),
        "montant": "30",
        "beneficiaire": "Agence du logement",
        "iban": "FR1420041010050500013M02606",
        "date_operation": JOUR.isoformat(),
        "motif": "Caution d'un logement (semi-liberté)",
    }
    client.force_login(regisseur)
    assert client.post(url("comptenominatif_deblocage", compte.pk), donnees).status_code == 403
    client.force_login(chef)
    # D. 424-3: in ordinary detention the pécule is unavailable; the refusal is shown.
    reponse = client.post(url("comptenominatif_deblocage", compte.pk), donnees)
    assert reponse.status_code == 200
    assert "aménagement de peine sous écrou" in texte(reponse)
    assert soldes(compte)[1] == D("40.00")
    Detenu.objects.filter(pk=compte.detenu_id).update(regime=Regime.SEMI_LIBERTE)
    donnees["jeton"] = jeton()
    assert client.post(url("comptenominatif_deblocage", compte.pk), donnees).status_code == 302
    assert soldes(compte)[1] == D("10.00")


def test_permission_de_sortir_fixee_remise_et_revenue(client, regisseur, chef, compte):
    recette(compte, "100.00")
    client.force_login(regisseur)
    donnees = {"jeton": jeton(), "montant": "80", "date_sortie": "2025-07-01"}
    assert client.post(url("comptenominatif_permission", compte.pk), donnees).status_code == 403

    client.force_login(chef)
    trop = {"jeton": jeton(), "montant": "150", "date_sortie": "2025-07-01"}
    reponse = client.post(url("comptenominatif_permission", compte.pk), trop)
    assert "la part disponible ne contient que 100,00 €" in texte(reponse)
    assert not PermissionSortie.objects.exists()
    assert client.post(url("comptenominatif_permission", compte.pk), donnees).status_code == 302
    # Fixing the sum writes no entry; a resubmit of the same form creates nothing more.
    assert client.post(url("comptenominatif_permission", compte.pk), donnees).status_code == 302
    permission = PermissionSortie.objects.get()
    assert permission.montant_fixe == D("80.00")

    client.force_login(regisseur)
    page = texte(client.get(url("comptenominatif_change", compte.pk)))
    remise = url("comptenominatif_permission_remise", compte.pk, permission.pk)
    assert remise in page
    assert (
        client.post(remise, {"jeton": jeton(), "date_operation": JOUR.isoformat()}).status_code
        == 302
    )
    assert soldes(compte)[2] == D("20.00")
    # Handing out twice is refused by the service.
    reponse = client.post(remise, {"jeton": jeton(), "date_operation": JOUR.isoformat()})
    assert reponse.status_code == 200
    assert "La somme de cette permission a déjà été remise ou annulée." in texte(reponse)
    assert soldes(compte)[2] == D("20.00")

    retour = url("comptenominatif_permission_retour", compte.pk, permission.pk)
    reponse = client.post(
        retour,
        {"jeton": jeton(), "montant_rapporte": "30", "date_operation": JOUR.isoformat()},
    )
    assert reponse.status_code == 302
    permission.refresh_from_db()
    assert permission.statut == StatutPermission.REVENUE
    assert soldes(compte)[2] == D("50.00")


def test_le_transfert_et_la_liquidation(client, regisseur, compte, etab):
    recette(compte, "250.00")
    destination = EtablissementFactory(code="CD2", nom="Centre de détention 2")
    client.force_login(regisseur)
    formulaire = client.get(url("comptenominatif_transfert", compte.pk))
    assert etab not in formulaire.context["form"].fields["vers"].queryset
    assert destination in formulaire.context["form"].fields["vers"].queryset

    autre = DetenuFactory(etablissement=etab)
    recette(autre.compte, "100.00")
    reponse = client.post(
        url("comptenominatif_liberation", autre.compte.pk),
        {
            "jeton": jeton(),
            "date_liberation": JOUR.isoformat(),
            "sort_parties_civiles": services.SortPartiesCiviles.REMETTRE,
            "mode_remise": services.ModeRemise.NUMERAIRE,
        },
    )
    assert reponse.status_code == 302
    autre.refresh_from_db()
    assert autre.libere_le == JOUR
    assert soldes(autre.compte) == (D("0.00"), D("0.00"), D("0.00"))
    page = texte(client.get(url("comptenominatif_change", autre.compte.pk)))
    assert "libéré(e) le 16/06/2025" in page
    assert url("comptenominatif_recette", autre.compte.pk) not in page


def test_contre_passation_et_remboursement(client, regisseur, compte):
    erreur = recette(compte, "150.00")
    recette(compte, "100.00")  # T0 = 150: 10 / 5 / 85
    cantine = debit(compte, "30.00")
    client.force_login(regisseur)

    reponse = client.post(
        url("comptenominatif_remboursement", compte.pk),
        {
            "jeton": jeton(),
            "ecriture": cantine.pk,
            "montant": "40",
            "date_operation": JOUR.isoformat(),
            "motif": "Commande annulée",
        },
    )
    assert "Le remboursement dépasse le débit d'origine" in texte(reponse)
    reponse = client.post(
        url("comptenominatif_remboursement", compte.pk),
        {
            "jeton": jeton(),
            "ecriture": cantine.pk,
            "montant": "10",
            "date_operation": JOUR.isoformat(),
            "motif": "Commande annulée",
        },
    )
    assert reponse.status_code == 302
    assert soldes(compte)[2] == D("215.00")

    contrepasser = url("comptenominatif_contrepassation", compte.pk)
    formulaire = client.get(contrepasser, {"ecriture": erreur.pk})
    assert formulaire.context["form"]["ecriture"].value() == str(erreur.pk)
    donnees = {"jeton": jeton(), "ecriture": erreur.pk, "motif": "Salaire saisi deux fois"}
    assert client.post(contrepasser, donnees).status_code == 302
    # Spec 01 section 9: the month ends as if the 150 had never been booked. T = 250,
    # m = 150: part 1 gives back P1(250) - P1(100) = 20 % x 50 = 10, the pécule
    # PL(250) - PL(100) = 10 % x 50 = 5, the part disponible 150 - 10 - 5 = 135.
    # Left: 0 / 0 / (150 + 85 - 30 + 10) - 135 = 80, i.e. the 100 alone, less the canteen.
    assert soldes(compte) == (D("0.00"), D("0.00"), D("80.00"))
    assert Ecriture.objects.get(contrepasse=erreur).auteur == regisseur
    # Once reversed, the entry is no longer offered; nothing is booked twice.
    nombre = Ecriture.objects.count()
    reponse = client.post(contrepasser, {**donnees, "jeton": jeton()})
    assert reponse.status_code == 200
    assert "Cette écriture ne peut pas être contre-passée." in texte(reponse)
    assert Ecriture.objects.count() == nombre


# --- D.422 ----------------------------------------------------------------------------


def demande(client, detenu, *, jeton_=None, montant="150"):
    return client.post(
        url("autorisationd422_add"),
        {
            "jeton": jeton_ or jeton(),
            "detenu": detenu.pk,
            "montant": montant,
            "objet": "Prothèse dentaire non prise en charge",
            "emetteur_attendu": "Sa fille, Mme MARTIN",
            "reliquat": ChoixReliquat.RESTITUER,
            "date_demande": JOUR.isoformat(),
        },
    )


def decider(client, autorisation, decision, motif="Dépense justifiée"):
    return client.post(
        url("autorisationd422_decision", autorisation.pk),
        {"jeton": jeton(), "decision": decision, "motif": motif},
    )


def test_une_demande_d422_enregistree_dans_l_admin(client, regisseur, detenu):
    client.force_login(regisseur)
    assert client.get(url("autorisationd422_add"), {"detenu": detenu.pk}).status_code == 200
    meme_jeton = jeton()
    reponse = demande(client, detenu, jeton_=meme_jeton)

    autorisation = AutorisationD422.objects.get()
    assert reponse.status_code == 302
    assert reponse["Location"] == url("autorisationd422_change", autorisation.pk)
    assert autorisation.enregistree_par == regisseur
    assert autorisation.statut == StatutD422.DEMANDEE
    assert autorisation.montant_autorise == D("150.00")
    assert EvenementD422.objects.filter(autorisation=autorisation, action="demande").exists()
    # A resubmit of the same form records nothing more.
    assert demande(client, detenu, jeton_=meme_jeton).status_code == 302
    assert AutorisationD422.objects.count() == 1


def test_le_regisseur_ne_peut_pas_decider(client, regisseur, detenu):
    client.force_login(regisseur)
    demande(client, detenu)
    autorisation = AutorisationD422.objects.get()
    assert client.get(url("autorisationd422_decision", autorisation.pk)).status_code == 403
    assert decider(client, autorisation, "autoriser").status_code == 403
    autorisation.refresh_from_db()
    assert autorisation.statut == StatutD422.DEMANDEE
    page = texte(client.get(url("autorisationd422_change", autorisation.pk)))
    assert url("autorisationd422_decision", autorisation.pk) not in page


def test_l_auteur_de_la_demande_ne_la_decide_pas(client, etab, detenu):
    # Someone holding both roles records the request: they still cannot decide it.
    cumulard = agent("Régisseur", etab)
    cumulard.groups.add(Group.objects.get(name="Chef d'établissement"))
    client.force_login(cumulard)
    demande(client, detenu)
    autorisation = AutorisationD422.objects.get()

    reponse = decider(client, autorisation, "autoriser")
    assert reponse.status_code == 200
    assert "La personne qui a enregistré la demande ne peut pas la décider." in texte(reponse)
    autorisation.refresh_from_db()
    assert autorisation.statut == StatutD422.DEMANDEE
    assert autorisation.decidee_par is None


def test_le_chef_decide_une_seule_fois(client, regisseur, chef, detenu):
    client.force_login(regisseur)
    demande(client, detenu)
    autorisation = AutorisationD422.objects.get()

    client.force_login(chef)
    page = texte(client.get(url("autorisationd422_change", autorisation.pk)))
    assert "Éléments à vérifier avant de décider" in page
    assert "Part des parties civiles" in page
    assert "des victimes ne sont pas intégralement indemnisées" in page
    assert url("autorisationd422_decision", autorisation.pk) in page
    assert "Demande enregistrée" in page  # the steps log, in French

    formulaire = texte(client.get(url("autorisationd422_decision", autorisation.pk)))
    assert 'value="autoriser"' in formulaire and 'value="refuser"' in formulaire

    reponse = decider(client, autorisation, "autoriser", motif="   ")
    assert "Le motif de la décision est obligatoire." in texte(reponse)

    reponse = decider(client, autorisation, "autoriser")
    assert reponse.status_code == 302
    autorisation.refresh_from_db()
    assert autorisation.statut == StatutD422.AUTORISEE
    assert autorisation.decidee_par == chef
    assert autorisation.motif_decision == "Dépense justifiée"

    reponse = decider(client, autorisation, "refuser", motif="Je me ravise")
    assert reponse.status_code == 200
    assert "Cette demande a déjà été décidée (autorisée)." in texte(reponse)
    autorisation.refresh_from_db()
    assert autorisation.statut == StatutD422.AUTORISEE
    assert list(autorisation.evenements.values_list("action", flat=True)) == [
        "demande",
        "autorisation",
    ]


def test_pour_un_prevenu_le_magistrat_decide_d_abord(client, regisseur, chef, etab):
    prevenu = DetenuFactory(etablissement=etab, statut_penal=StatutPenal.PREVENU)
    client.force_login(regisseur)
    demande(client, prevenu)
    autorisation = AutorisationD422.objects.get()

    client.force_login(chef)
    reponse = decider(client, autorisation, "autoriser")
    assert "la décision du magistrat chargé de l'information doit être enregistrée" in texte(
        reponse
    )

    client.force_login(regisseur)
    page = texte(client.get(url("autorisationd422_change", autorisation.pk)))
    assert url("autorisationd422_magistrat", autorisation.pk) in page
    reponse = client.post(
        url("autorisationd422_magistrat", autorisation.pk),
        {
            "jeton": jeton(),
            "decision": "favorable",
            "magistrat_nom": "M. le juge d'instruction Durand",
            "reference": "JI-2025-77",
            "date_decision": JOUR.isoformat(),
        },
    )
    assert reponse.status_code == 302

    client.force_login(chef)
    assert decider(client, autorisation, "autoriser").status_code == 302
    autorisation.refresh_from_db()
    assert autorisation.statut == StatutD422.AUTORISEE
    assert autorisation.magistrat_reference == "JI-2025-77"


def test_le_cycle_d_un_subside_d422(client, regisseur, chef, detenu, compte):
    client.force_login(regisseur)
    demande(client, detenu, montant="150")
    autorisation = AutorisationD422.objects.get()
    client.force_login(chef)
    decider(client, autorisation, "autoriser")

    client.force_login(regisseur)
    page = texte(client.get(url("autorisationd422_change", autorisation.pk)))
    for action in ("subside", "depense", "cloture", "renonciation"):
        assert url(f"autorisationd422_{action}", autorisation.pk) in page
    reponse = client.post(
        url("autorisationd422_subside", autorisation.pk),
        {
            "jeton": jeton(),
            "montant": "150",
            "emetteur": "Mme MARTIN",
            "date_operation": JOUR.isoformat(),
            "motif": "Mandat de sa fille",
        },
    )
    assert reponse.status_code == 302
    compte.refresh_from_db()
    assert (compte.part_disponible, compte.part_disponible_bloquee) == (D("150.00"), D("150.00"))

    # The blocked sum cannot pay the canteen.
    reponse = poster_debit(client, compte, "10")
    assert "Solde insuffisant sur la part disponible" in texte(reponse)

    reponse = client.post(
        url("autorisationd422_depense", autorisation.pk),
        {
            "jeton": jeton(),
            "montant": "120",
            "beneficiaire": "Prothèses du Centre",
            "iban": "FR1420041010050500013M02606",
            "date_operation": JOUR.isoformat(),
            "motif": "Facture du prothésiste",
            "piece": "F-123",
        },
    )
    assert reponse.status_code == 302
    reponse = client.post(
        url("autorisationd422_cloture", autorisation.pk),
        {
            "jeton": jeton(),
            "date_operation": JOUR.isoformat(),
            "emetteur_nom": "Mme MARTIN",
            "emetteur_iban": "FR7630006000011234567890286",
        },
    )
    assert reponse.status_code == 302
    autorisation.refresh_from_db()
    assert autorisation.statut == StatutD422.CLOTUREE
    compte.refresh_from_db()
    # The 30 € left were returned to the sender, as the detainee chose.
    assert (compte.part_disponible, compte.part_disponible_bloquee) == (D("0.00"), D("0.00"))


def test_la_liste_des_demandes_se_filtre_par_statut(client, regisseur, chef, etab):
    client.force_login(regisseur)
    demande(client, DetenuFactory(etablissement=etab))
    demande(client, DetenuFactory(etablissement=etab))
    premiere = AutorisationD422.objects.order_by("pk").first()
    client.force_login(chef)
    decider(client, premiere, "refuser", motif="La personne a les moyens")
    reponse = client.get(url("autorisationd422_changelist"), {"statut__exact": "demandee"})
    assert [a.pk for a in reponse.context["cl"].queryset] == [
        AutorisationD422.objects.order_by("pk").last().pk
    ]


# --- Detainees and establishments -----------------------------------------------------


def test_ecrouer_dans_l_admin_ouvre_le_compte(client, regisseur, etab):
    client.force_login(regisseur)
    formulaire = client.get(url("detenu_add"))
    assert formulaire.context["adminform"].form.initial["etablissement"] == etab.pk
    assert "libere_le" not in formulaire.context["adminform"].form.fields
    reponse = client.post(
        url("detenu_add"),
        {
            "etablissement": etab.pk,
            "numero_ecrou": "777001",
            "nom": "DUPONT",
            "prenoms": "Marie",
            "date_naissance": "01/02/1990",
            "statut_penal": StatutPenal.PREVENU,
            "regime": "ordinaire",
        },
    )
    detenu = Detenu.objects.get(numero_ecrou="777001")
    assert reponse.status_code == 302
    assert reponse["Location"] == url("comptenominatif_change", detenu.compte.pk)
    assert detenu.compte.total == 0

    # The same écrou number twice in one establishment is refused, in French.
    reponse = client.post(
        url("detenu_add"),
        {
            "etablissement": etab.pk,
            "numero_ecrou": "777001",
            "nom": "DOUBLON",
            "prenoms": "Jean",
            "date_naissance": "01/02/1990",
            "statut_penal": StatutPenal.PREVENU,
            "regime": "ordinaire",
        },
    )
    assert "Ce numéro d'écrou existe déjà dans cet établissement." in texte(reponse)
    assert not Detenu.objects.filter(nom="DOUBLON").exists()


def test_ecrouer_exige_le_droit(client, chef, etab):
    client.force_login(chef)
    assert client.get(url("detenu_add")).status_code == 403


def test_modifier_un_detenu_ne_change_que_les_elements_de_la_repartition(
    client, regisseur, detenu, etab
):
    autre = EtablissementFactory(code="AUTRE")
    client.force_login(regisseur)
    reponse = client.post(
        url("detenu_change", detenu.pk),
        {
            "etablissement": autre.pk,
            "numero_ecrou": "FAUX",
            "nom": "AUTRE",
            "libere_le": "01/01/2025",
            "statut_penal": StatutPenal.CONDAMNE,
            "regime": "semi_liberte",
            "victimes_indemnisees_ou_absentes": "on",
            "decision_jap_sans_parties_civiles": "",
            "prive_de_subsides_jusquau": "",
        },
    )
    assert reponse.status_code == 302
    avant = detenu.numero_ecrou
    detenu.refresh_from_db()
    assert detenu.regime == "semi_liberte"
    assert detenu.victimes_indemnisees_ou_absentes is True
    assert (detenu.etablissement, detenu.numero_ecrou, detenu.nom) == (etab, avant, "MARTIN")
    assert detenu.libere_le is None


def test_le_chef_modifie_les_plafonds_mais_pas_seul_le_compte_de_la_regie(
    client, chef, regisseur, etab
):
    donnees = {
        "nom": etab.nom,
        "regie_titulaire": "Régie détournée",
        "regie_iban": "FR1420041010050500013M02606",
        "plafond_par_virement": "150,00",
        "plafond_mensuel_par_detenu": "300",
        "plafond_mensuel_par_emetteur": "",
    }
    client.force_login(regisseur)
    assert client.post(url("etablissement_change", etab.pk), donnees).status_code == 403

    client.force_login(chef)
    page = texte(client.get(url("etablissement_change", etab.pk)))
    assert "proposer un changement" in page
    reponse = client.post(url("etablissement_change", etab.pk), donnees)
    assert reponse.status_code == 302
    etab.refresh_from_db()
    assert etab.plafond_par_virement == D("150.00")
    # The account is read-only here: one chef alone cannot change where the money goes.
    assert (etab.regie_iban, etab.regie_titulaire) == (
        "FR7630006000011234567890189",
        f"Régie des comptes nominatifs {etab.code}",
    )

    # Proposed by the régisseur, approved by the chef: then it changes.
    client.force_login(regisseur)
    reponse = client.post(
        url("changementcompteregie_add"),
        {
            "jeton": jeton(),
            "etablissement": etab.pk,
            "titulaire": "Régie MA1",
            "iban": "FR76 3000 6000 0112 3456 7890 180",
            "motif": "Nouveau compte au Trésor",
        },
    )
    assert "IBAN du bénéficiaire invalide" in texte(reponse)
    reponse = client.post(
        url("changementcompteregie_add"),
        {
            "jeton": jeton(),
            "etablissement": etab.pk,
            "titulaire": "Régie MA1",
            "iban": "FR14 2004 1010 0505 0001 3M02 606",
            "motif": "Nouveau compte au Trésor",
        },
    )
    assert reponse.status_code == 302
    changement = ChangementCompteRegie.objects.get()
    etab.refresh_from_db()
    assert etab.regie_iban == "FR7630006000011234567890189"  # not yet
    client.force_login(chef)
    page = texte(client.get(url("changementcompteregie_change", changement.pk)))
    assert "FR7630006000011234567890189" in page and "FR1420041010050500013M02606" in page
    # The régisseur who proposed it cannot decide it (no right, and not twice the same).
    client.force_login(regisseur)
    assert (
        client.post(
            url("changementcompteregie_decision", changement.pk),
            {"jeton": jeton(), "decision": "approuver", "motif": ""},
        ).status_code
        == 403
    )
    client.force_login(chef)
    reponse = client.post(
        url("changementcompteregie_decision", changement.pk),
        {"jeton": jeton(), "decision": "approuver", "motif": ""},
    )
    assert reponse.status_code == 302
    etab.refresh_from_db()
    assert (etab.regie_iban, etab.regie_titulaire) == ("FR1420041010050500013M02606", "Régie MA1")


# --- Nothing is deleted, the ledger is read-only --------------------------------------


def test_rien_ne_se_supprime_ni_ne_se_modifie_dans_le_registre(client, regisseur, chef, compte):
    ecriture = recette(compte, "100.00")
    services.fixer_permission_sortie(
        compte=compte, montant=D("10.00"), date_sortie=JOUR, auteur=chef
    )
    autorisation = services.demander_d422(
        detenu=compte.detenu,
        montant=D("50.00"),
        objet="Lunettes",
        emetteur_attendu="Sa mère",
        reliquat=ChoixReliquat.REPARTIR,
        date_demande=JOUR,
        auteur=regisseur,
    )
    admin = UtilisateurFactory(is_superuser=True)
    client.force_login(admin)
    objets = {
        "etablissement": compte.detenu.etablissement,
        "detenu": compte.detenu,
        "comptenominatif": compte,
        "ecriture": ecriture,
        "autorisationd422": autorisation,
        "permissionsortie": PermissionSortie.objects.get(),
    }
    for nom, objet in objets.items():
        assert client.get(url(f"{nom}_delete", objet.pk)).status_code == 403, nom
        assert client.post(url(f"{nom}_delete", objet.pk), {"post": "yes"}).status_code == 403
        liste = client.get(url(f"{nom}_changelist"))
        assert "delete_selected" not in liste.context["cl"].model_admin.get_actions(
            liste.wsgi_request
        ), nom
        reponse = client.post(
            url(f"{nom}_changelist"),
            {"action": "delete_selected", "_selected_action": [objet.pk], "post": "yes"},
        )
        assert type(objet).objects.filter(pk=objet.pk).exists(), nom
        assert reponse.status_code in (200, 302)

    # Ledger rows are never added or changed through the admin, even by a superuser.
    for nom in ("ecriture", "comptenominatif", "permissionsortie"):
        assert client.get(url(f"{nom}_add")).status_code == 403, nom
    lignes = LigneEcriture.objects.filter(ecriture=ecriture).count()
    reponse = client.post(url("ecriture_change", ecriture.pk), {"motif": "Falsifié"})
    assert reponse.status_code == 403
    ecriture.refresh_from_db()
    assert ecriture.motif == "Salaire"
    page = client.get(url("ecriture_change", ecriture.pk))
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    assert LigneEcriture.objects.filter(ecriture=ecriture).count() == lignes == 2
    assert not any(formset.formset.can_delete for formset in page.context["inline_admin_formsets"])


def test_un_proche_ou_un_anonyme_n_entre_pas(client, compte):
    reponse = client.get(url("comptenominatif_change", compte.pk))
    assert reponse.status_code == 302
    assert reverse("admin:login") in reponse["Location"]
    client.force_login(UtilisateurFactory(is_staff=False))
    assert client.get(url("comptenominatif_recette", compte.pk)).status_code == 302
