"""The relevé de compte nominatif: its figures are the ledger's (opening and closing
balances of each part, each entry of the period, the monthly counters, the blocked sums),
and the back-office serves it only within one's establishments."""

import datetime
import re
from decimal import Decimal as D

import pytest
from django.db.models import Sum
from django.utils import timezone

from regie import documents
from regie import services as regie_services
from regie.models import (
    PARTIES_DU_COMPTE,
    ChoixReliquat,
    CompteurMensuel,
    Ecriture,
    LigneEcriture,
    Partie,
)
from regie.selectors import cumul_recalcule
from socle.formats import euros
from tests.factories import (
    IBAN_FOURNISSEUR,
    DetenuFactory,
    EtablissementFactory,
    UtilisateurFactory,
    agent,
)

from .conftest import artefact, debit, normaliser, recette, texte_pdf

pytestmark = pytest.mark.django_db

DEBUT = datetime.date(2025, 2, 1)
FIN = datetime.date(2025, 3, 31)


@pytest.fixture
def grand_livre():
    """An account with entries before, during and after the period, and a D.422
    authorisation whose sum is partly spent (blocked at the end of the period)."""
    etablissement = EtablissementFactory(code="MAA", nom="Maison d'arrêt d'Avignon")
    detenu = DetenuFactory(
        etablissement=etablissement, nom="BERNARD", prenoms="Luc", numero_ecrou="424242"
    )
    compte = detenu.compte
    regisseur = agent("Régisseur", etablissement)
    chef = agent("Chef d'établissement", etablissement)
    recette(compte, "300.00", datetime.date(2025, 1, 15), "avant-1")
    debit(compte, "50.00", datetime.date(2025, 1, 20), "avant-2")
    recette(compte, "250.00", datetime.date(2025, 2, 5), "periode-1")
    recette(compte, "1234.56", datetime.date(2025, 3, 3), "periode-2")
    debit(compte, "35.40", datetime.date(2025, 3, 5), "periode-3")
    autorisation = regie_services.demander_d422(
        detenu=detenu,
        montant=D("150.00"),
        objet="Lunettes de vue",
        emetteur_attendu="Sa sœur",
        reliquat=ChoixReliquat.REPARTIR,
        date_demande=datetime.date(2025, 3, 1),
        auteur=regisseur,
    )
    regie_services.decider_d422(
        autorisation=autorisation, accorder=True, motif="Dépense justifiée", auteur=chef
    )
    regie_services.encaisser_subside_d422(
        autorisation=autorisation,
        montant=D("150.00"),
        source="periode-4",
        motif="Subside de la sœur",
        auteur=regisseur,
        date_operation=datetime.date(2025, 3, 10),
    )
    regie_services.payer_depense_d422(
        autorisation=autorisation,
        montant=D("100.00"),
        source="periode-5",
        motif="Opticien",
        auteur=regisseur,
        date_operation=datetime.date(2025, 3, 12),
        piece="FAC-77",
        fournisseur="Optique du Centre",
        iban=IBAN_FOURNISSEUR,
    )
    recette(compte, "100.00", datetime.date(2025, 4, 2), "apres-1")
    return {
        "etablissement": etablissement,
        "detenu": detenu,
        "compte": compte,
        "autorisation": autorisation,
        "regisseur": regisseur,
    }


def soldes_attendus(compte, **filtre) -> dict:
    """Balances straight from the ledger lines, independently of regie.documents."""
    lignes = LigneEcriture.objects.filter(ecriture__compte=compte, **filtre)
    soldes = {
        partie: lignes.filter(partie=partie).aggregate(s=Sum("montant"))["s"] or D("0.00")
        for partie in PARTIES_DU_COMPTE
    }
    soldes["bloque"] = lignes.filter(bloque_d422__isnull=False).aggregate(s=Sum("montant"))[
        "s"
    ] or D("0.00")
    return soldes


def montants(ligne: str) -> list[str]:
    return re.findall(r"(?<!\S)-?\d{1,3}(?: \d{3})*,\d\d €", ligne)


def test_chiffres_du_releve_egaux_au_registre(grand_livre):
    compte = grand_livre["compte"]
    pdf = documents.releve_compte(compte, DEBUT, FIN)
    artefact(pdf, "releve-compte")
    texte = texte_pdf(pdf)
    lignes = texte.splitlines()
    plat = " ".join(texte.split())

    ouverture = soldes_attendus(compte, ecriture__date_operation__lt=DEBUT)
    cloture = soldes_attendus(compte, ecriture__date_operation__lte=FIN)
    assert ouverture[Partie.PART_DISPONIBLE] == D("220.00")  # 270 - 50
    assert cloture["bloque"] == D("50.00")
    libelles = {
        Partie.PARTIES_CIVILES: "Parties civiles et créanciers d'aliments",
        Partie.PECULE_LIBERATION: "Pécule de libération",
        Partie.PART_DISPONIBLE: "Part disponible",
        "bloque": "dont sommes bloquées (D.422)",
    }
    for cle, libelle in libelles.items():
        ligne = plat.split("(clôture) ", 1)[1].split(libelle + " ", 1)[1][:60]
        attendu = [ouverture[cle], cloture[cle] - ouverture[cle], cloture[cle]]
        assert montants(ligne)[:3] == [normaliser(euros(m)) for m in attendu], ligne
    total = next(li for li in lignes if li.startswith("Total du compte"))
    assert montants(total) == [
        normaliser(euros(sum(s[p] for p in PARTIES_DU_COMPTE))) for s in (ouverture,)
    ] + [
        normaliser(
            euros(
                sum(cloture[p] for p in PARTIES_DU_COMPTE)
                - sum(ouverture[p] for p in PARTIES_DU_COMPTE)
            )
        ),
        normaliser(euros(sum(cloture[p] for p in PARTIES_DU_COMPTE))),
    ]

    # Every entry of the period, with its nature and what it changed on each part.
    section = texte.split("Écritures de la période", 1)[1].split("Compteurs mensuels", 1)[0]
    ecritures = Ecriture.objects.filter(compte=compte, date_operation__range=(DEBUT, FIN))
    assert ecritures.count() == 5
    assert f"{ecritures.count()} écritures du 01/02/2025 au 31/03/2025" in section
    corps = section.split("Total des mouvements", 1)[0]
    debuts = [m.start() for m in re.finditer(r"\d\d/\d\d/\d{4} \d+ ", corps)]
    rangees = {}
    for debut, fin in zip(debuts, [*debuts[1:], len(corps)], strict=True):
        morceau = " ".join(corps[debut:fin].split())
        rangees[int(morceau.split()[1])] = morceau
    assert set(rangees) == {e.pk for e in ecritures}
    for ecriture in ecritures:
        rangee = rangees[ecriture.pk]
        assert rangee.startswith(f"{ecriture.date_operation:%d/%m/%Y} {ecriture.pk} ")
        assert ecriture.get_nature_display() in rangee
        variations = {
            partie: ecriture.lignes.filter(partie=partie).aggregate(s=Sum("montant"))["s"]
            for partie in PARTIES_DU_COMPTE
        }
        bloque = ecriture.lignes.filter(bloque_d422__isnull=False).aggregate(s=Sum("montant"))["s"]
        attendu = [normaliser(euros(v)) for v in [*variations.values(), bloque] if v]
        assert montants(rangee.split(ecriture.get_nature_display(), 1)[1]) == attendu, rangee
    assert "pièce FAC-77" in section
    mouvements = next(li for li in section.splitlines() if li.startswith("Total des mouvements"))
    assert montants(mouvements) == [
        normaliser(euros(cloture[cle] - ouverture[cle])) for cle in (*PARTIES_DU_COMPTE, "bloque")
    ]

    # The monthly counters of the period; the D.422 sum is not counted.
    for mois, nom in ((2, "Février 2025"), (3, "Mars 2025")):
        stocke = CompteurMensuel.objects.get(compte=compte, annee=2025, mois=mois).cumul
        assert stocke == cumul_recalcule(compte, 2025, mois)
        ligne = next(li for li in lignes if li.startswith(nom))
        assert montants(ligne) == [normaliser(euros(stocke)), "200,00 €"]
    assert "Mars 2025 1 234,56 €" in texte

    # The blocked sum of the authorisation at the end of the period.
    autorisation = grand_livre["autorisation"]
    ligne = next(li for li in lignes if li.startswith(f"n° {autorisation.pk} "))
    assert "Lunettes de vue" in ligne and "Autorisée" in ligne
    assert montants(ligne) == ["150,00 €", "50,00 €"]

    # Identity and period.
    assert "BERNARD Luc" in texte and "424242" in texte
    assert "Période du 01/02/2025 au 31/03/2025" in texte
    assert "Maison d'arrêt d'Avignon" in texte


def test_periode_sans_ecriture(grand_livre):
    donnees = documents.donnees_releve_compte(
        grand_livre["compte"], datetime.date(2025, 5, 1), datetime.date(2025, 5, 31)
    )
    assert donnees["mouvements"] == []
    assert donnees["ouverture"] == donnees["cloture"]
    assert donnees["cloture"]["total"] == sum(
        soldes_attendus(grand_livre["compte"])[p] for p in PARTIES_DU_COMPTE
    )
    texte = texte_pdf(
        documents.releve_compte(
            grand_livre["compte"], datetime.date(2025, 5, 1), datetime.date(2025, 5, 31)
        )
    )
    assert "Aucune écriture sur la période." in texte
    with pytest.raises(ValueError, match="period"):
        documents.donnees_releve_compte(grand_livre["compte"], FIN, DEBUT)


def test_meme_donnees_memes_octets(grand_livre):
    emis_le = timezone.make_aware(datetime.datetime(2025, 4, 1, 8, 0))
    premier = documents.releve_compte(grand_livre["compte"], DEBUT, FIN, emis_le=emis_le)
    second = documents.releve_compte(grand_livre["compte"], DEBUT, FIN, emis_le=emis_le)
    assert premier == second


# --- Back-office ------------------------------------------------------------------------


def url(compte) -> str:
    return f"/admin/regie/comptenominatif/{compte.pk}/releve.pdf"


def test_administration_formulaire_puis_pdf(client, grand_livre):
    client.force_login(grand_livre["regisseur"])
    page = client.get(url(grand_livre["compte"]))
    assert page.status_code == 200
    assert "Télécharger le relevé (PDF)" in page.content.decode()
    erreur = client.get(url(grand_livre["compte"]), {"debut": "2025-03-31", "fin": "2025-02-01"})
    assert "postérieure à la date de fin" in erreur.content.decode()
    reponse = client.get(url(grand_livre["compte"]), {"debut": "2025-02-01", "fin": "2025-03-31"})
    assert reponse.status_code == 200
    assert reponse["Content-Type"] == "application/pdf"
    assert reponse["Content-Disposition"] == (
        'attachment; filename="releve-compte-424242-bernard-20250201-20250331.pdf"'
    )
    assert "Relevé de compte nominatif" in texte_pdf(reponse.content)
    assert client.post(url(grand_livre["compte"])).status_code == 405


def test_administration_limitee_aux_etablissements(client, grand_livre):
    ailleurs = EtablissementFactory(code="AUTRE")
    client.force_login(agent("Régisseur", ailleurs))
    assert client.get(url(grand_livre["compte"])).status_code == 404
    assert (
        client.get(
            url(grand_livre["compte"]), {"debut": "2025-02-01", "fin": "2025-03-31"}
        ).status_code
        == 404
    )
    # Missing account: 404 too.
    client.force_login(grand_livre["regisseur"])
    assert (
        client.get(
            f"/admin/regie/comptenominatif/{grand_livre['compte'].pk + 999}/releve.pdf"
        ).status_code
        == 404
    )


def test_administration_permission_exporter_releve(client, grand_livre):
    from django.contrib.auth.models import Permission

    from regie.models import Affectation

    lecteur = UtilisateurFactory()
    lecteur.user_permissions.add(Permission.objects.get(codename="view_comptenominatif"))
    Affectation.objects.create(utilisateur=lecteur, etablissement=grand_livre["etablissement"])
    client.force_login(lecteur)
    assert client.get(url(grand_livre["compte"])).status_code == 403
