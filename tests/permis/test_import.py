"""CSV import of permits in the admin: the whole file or nothing, each bad row reported
with its line in the file and the reason."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from permis.models import ActionPermis, EvenementPermis, PermisDeVisite, StatutPermis
from permis.resources import CSVPointVirgule, PermisDeVisiteResource
from tests.factories import DetenuFactory

from .conftest import permis, regisseur

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.permis.urls_test")]

ENTETE = "numero,numero_ecrou,titulaire_nom,titulaire_prenoms,titulaire_date_naissance,date_debut,date_fin,statut\n"
BON = (
    ENTETE
    + "PV-1,1001,LEFÈVRE,Héloïse Éléonore,02/04/1985,01/01/2026,31/12/2026,actif\n"
    + "PV-2,1002,Dupont,Angela,1979-11-30,2026-02-01,,Actif\n"
    + "PV-3,1001,Martin,Jean,15/06/1960,01/01/2026,,suspendu\n"
)


@pytest.fixture
def detenus(etab_a):
    return [
        DetenuFactory(etablissement=etab_a, numero_ecrou="1001"),
        DetenuFactory(etablissement=etab_a, numero_ecrou="1002"),
    ]


@pytest.fixture
def agent_a(etab_a):
    return regisseur(etab_a)


@pytest.fixture
def client_a(client, agent_a):
    client.force_login(agent_a)
    return client


def televerser(client, contenu, etablissement, encodage="utf-8"):
    return client.post(
        reverse("admin:permis_permisdevisite_import"),
        {
            "resource": "0",
            "format": "0",
            "etablissement": etablissement.pk,
            "import_file": SimpleUploadedFile(
                "permis.csv", contenu.encode(encodage), content_type="text/csv"
            ),
        },
    )


def confirmer(client, reponse):
    formulaire = reponse.context["confirm_form"]
    return client.post(
        reverse("admin:permis_permisdevisite_process_import"),
        {nom: formulaire.initial[nom] for nom in formulaire.fields},
    )


def test_page_d_import(client_a, etab_a, etab_b):
    reponse = client_a.get(reverse("admin:permis_permisdevisite_import"))
    assert reponse.status_code == 200
    contenu = reponse.content.decode()
    assert "titulaire_date_naissance" in contenu and "numero_ecrou" in contenu
    assert list(reponse.context["form"].fields["etablissement"].queryset) == [etab_a]


def test_bon_fichier_importe_toutes_les_lignes(client_a, etab_a, detenus, agent_a):
    apercu = televerser(client_a, BON, etab_a)
    assert apercu.status_code == 200
    resultat = apercu.context["result"]
    assert not resultat.has_errors() and not resultat.has_validation_errors()
    assert not PermisDeVisite.objects.exists()  # the preview writes nothing
    reponse = confirmer(client_a, apercu)
    assert reponse.status_code == 302
    permis_ = {p.numero: p for p in PermisDeVisite.objects.select_related("detenu")}
    assert set(permis_) == {"PV-1", "PV-2", "PV-3"}
    assert permis_["PV-1"].titulaire_date_naissance == datetime.date(1985, 4, 2)
    assert permis_["PV-1"].date_fin == datetime.date(2026, 12, 31)
    assert permis_["PV-1"].etablissement == etab_a
    assert permis_["PV-2"].date_fin is None and permis_["PV-2"].detenu == detenus[1]
    assert permis_["PV-3"].statut == StatutPermis.SUSPENDU
    assert EvenementPermis.objects.filter(action=ActionPermis.CREATION, auteur=agent_a).count() == 3


def test_mise_a_jour_par_numero(client_a, etab_a, detenus):
    existant = permis(detenus[0], numero="PV-1", date_fin=datetime.date(2026, 6, 30))
    confirmer(client_a, televerser(client_a, BON, etab_a))
    existant.refresh_from_db()
    assert existant.date_fin == datetime.date(2026, 12, 31)
    assert PermisDeVisite.objects.count() == 3


def test_une_ligne_fausse_rien_n_est_importe(client_a, etab_a, detenus):
    contenu = (
        ENTETE
        + "PV-1,1001,Lefèvre,Héloïse,02/04/1985,01/01/2026,,actif\n"
        + "PV-2,00000,Dupont,Angela,30/11/1979,01/02/2026,,actif\n"
        + "PV-3,1002,Martin,Jean,15/06/1960,01/01/2026,,actif\n"
    )
    reponse = televerser(client_a, contenu, etab_a)
    assert reponse.status_code == 200
    assert "confirm_form" not in reponse.context
    resultat = reponse.context["result"]
    [ligne] = resultat.invalid_rows
    assert ligne.number + 1 == 3  # line 3 of the file (line 1 is the header)
    assert ligne.error.message_dict == {
        "numero_ecrou": [
            "Aucune personne détenue n'a le numéro d'écrou « 00000 » dans l'établissement "
            "Maison d'arrêt A."
        ]
    }
    page = reponse.content.decode()
    assert "Erreurs : aucun permis n'a été importé" in page
    assert '<td class="ligne-fichier">3</td>' in page
    assert "Aucune personne détenue n&#x27;a le numéro d&#x27;écrou « 00000 »" in page
    assert not PermisDeVisite.objects.exists()


@pytest.mark.parametrize(
    ("ligne", "colonne", "message"),
    [
        (
            "PV-9,1001,A,B,31/02/1985,01/01/2026,,actif",
            "titulaire_date_naissance",
            "Date invalide « 31/02/1985 » : attendue au format JJ/MM/AAAA ou AAAA-MM-JJ.",
        ),
        (
            "PV-9,1001,A,B,01/02/1985,01/01/2026,,annulé",
            "statut",
            "Statut inconnu « annulé » : attendu actif, suspendu, retire, expire.",
        ),
        (
            "PV-9,1001,A,B,01/02/1985,01/01/2026,01/01/2025,actif",
            "date_fin",
            "La date de fin doit être postérieure à la date de début.",
        ),
        ("PV-9,1001,,B,01/02/1985,01/01/2026,,actif", "titulaire_nom", "obligatoire"),
        ("PV-1,1001,A,B,01/02/1985,01/01/2026,,actif", "numero", "plusieurs fois"),
    ],
    ids=["date", "statut", "dates inversées", "nom vide", "doublon"],
)
def test_erreurs_rapportees(client_a, etab_a, detenus, ligne, colonne, message):
    contenu = ENTETE + "PV-1,1001,Lefèvre,Héloïse,02/04/1985,01/01/2026,,actif\n" + ligne + "\n"
    resultat = televerser(client_a, contenu, etab_a).context["result"]
    [invalide] = resultat.invalid_rows
    assert invalide.number + 1 == 3
    assert any(message in m for m in invalide.error.message_dict[colonne])
    assert not PermisDeVisite.objects.exists()


def test_colonnes_manquantes(client_a, etab_a, detenus):
    reponse = televerser(client_a, "numero,titulaire_nom\nPV-1,A\n", etab_a)
    resultat = reponse.context["result"]
    assert resultat.has_errors()
    assert "Colonnes manquantes" in reponse.content.decode()


def test_detenu_d_un_autre_etablissement_inconnu_ici(client_a, etab_a, etab_b):
    DetenuFactory(etablissement=etab_b, numero_ecrou="1001")
    contenu = ENTETE + "PV-1,1001,A,B,01/02/1985,01/01/2026,,actif\n"
    [invalide] = televerser(client_a, contenu, etab_a).context["result"].invalid_rows
    assert "numero_ecrou" in invalide.error.message_dict


def test_etablissement_hors_perimetre_refuse(client_a, etab_b):
    DetenuFactory(etablissement=etab_b, numero_ecrou="1001")
    reponse = televerser(client_a, BON, etab_b)
    assert "etablissement" in reponse.context["form"].errors
    assert "result" not in reponse.context


def test_point_virgule_et_windows_1252(client_a, etab_a, detenus):
    contenu = BON.replace(",", ";")
    apercu = televerser(client_a, contenu, etab_a, encodage="cp1252")
    assert not apercu.context["result"].has_validation_errors()
    confirmer(client_a, apercu)
    assert PermisDeVisite.objects.get(numero="PV-1").titulaire_nom == "LEFÈVRE"


def test_erreur_a_la_confirmation_annule_tout(client_a, etab_a, detenus):
    """The file changed nothing at preview; if a row fails at the real import (the
    detainee was released meanwhile), the whole file is rolled back."""
    apercu = televerser(client_a, BON, etab_a)
    type(detenus[1]).objects.filter(pk=detenus[1].pk).update(libere_le=datetime.date(2026, 3, 1))
    reponse = confirmer(client_a, apercu)
    assert reponse.status_code == 302
    assert reponse.url == reverse("admin:permis_permisdevisite_import")
    assert not PermisDeVisite.objects.exists()
    message = next(str(m) for m in reponse.wsgi_request._messages)
    assert message.startswith("Aucun permis n'a été importé")
    assert "ligne 3" in message and "libérée" in message


def test_resource_seule_annule_tout(etab_a, detenus, agent_a):
    contenu = (
        ENTETE
        + "PV-1,1001,A,B,01/02/1985,01/01/2026,,actif\nPV-2,404,A,B,01/02/1985,01/01/2026,,actif\n"
    )
    dataset = CSVPointVirgule().create_dataset(contenu.encode())
    resultat = PermisDeVisiteResource(etablissement=etab_a, auteur=agent_a).import_data(
        dataset, dry_run=False, use_transactions=True, rollback_on_validation_errors=True
    )
    assert resultat.has_validation_errors()
    assert not PermisDeVisite.objects.exists()


# --- Issue 11 item 12: a large file in bulk, with a size limit ----------------------------


def _fichier(lignes: int, statut="actif", debut=0) -> str:
    return ENTETE + "".join(
        f"PV-{n},E{n},Dupont,Jean,01/02/1985,01/01/2026,,{statut}\n"
        for n in range(debut, debut + lignes)
    )


def _requetes(client, contenu, etablissement):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as apercu_requetes:
        apercu = televerser(client, contenu, etablissement)
    assert not apercu.context["result"].has_validation_errors()
    with CaptureQueriesContext(connection) as import_requetes:
        assert confirmer(client, apercu).status_code == 302
    return len(apercu_requetes), len(import_requetes)


def test_import_en_masse_sans_requete_par_ligne(client_a, etab_a):
    """About 21 ms a row, one request per row and more: 5 000 rows took 101 s. The
    number of queries of the preview and of the import no longer grows with the file."""
    from regie.models import CompteNominatif, Detenu

    detenus = Detenu.objects.bulk_create(
        [
            Detenu(
                etablissement=etab_a,
                numero_ecrou=f"E{n}",
                nom=f"NOM{n}",
                prenoms="Jean",
                date_naissance=datetime.date(1980, 1, 1),
            )
            for n in range(120)
        ]
    )
    CompteNominatif.objects.bulk_create([CompteNominatif(detenu=d) for d in detenus])
    petit = _requetes(client_a, _fichier(10), etab_a)
    grand = _requetes(client_a, _fichier(110, debut=10), etab_a)
    assert grand == petit, (petit, grand)
    assert PermisDeVisite.objects.filter(etablissement=etab_a).count() == 120
    assert EvenementPermis.objects.filter(action=ActionPermis.CREATION).count() == 120
    # The whole file with every permit suspended: 120 updates, one history entry each,
    # with as many queries as 10 changes.
    suspension = _requetes(client_a, _fichier(120, statut="suspendu"), etab_a)
    assert set(PermisDeVisite.objects.values_list("statut", flat=True)) == {StatutPermis.SUSPENDU}
    suspensions = EvenementPermis.objects.filter(action=ActionPermis.SUSPENSION)
    assert suspensions.count() == 120
    assert suspensions.first().details == "statut : actif → suspendu"  # as modifier_permis
    assert _requetes(client_a, _fichier(10, statut="actif"), etab_a) == suspension
    assert EvenementPermis.objects.filter(action=ActionPermis.REACTIVATION).count() == 10
    # A file that changes nothing writes no history.
    avant = EvenementPermis.objects.count()
    _requetes(client_a, _fichier(10, statut="actif"), etab_a)
    assert EvenementPermis.objects.count() == avant


def test_permis_retire_non_modifiable_par_import(client_a, etab_a, detenus):
    existant = permis(detenus[0], numero="PV-1")
    from permis import services

    services.retirer_permis(permis=existant, motif="incident")
    contenu = ENTETE + "PV-1,1001,LEFÈVRE,Héloïse,02/04/1985,01/01/2026,,actif\n"
    [invalide] = televerser(client_a, contenu, etab_a).context["result"].invalid_rows
    assert "retiré" in " ".join(invalide.error.message_dict["statut"])


@pytest.mark.parametrize(
    ("contenu", "message"),
    [
        ("x" * (2 * 1024 * 1024 + 1), "un import de permis en accepte au plus 2 Mo"),
        (ENTETE + "PV-1,1,A,B,01/02/1985,01/01/2026,,actif\n" * 10_001, "au plus 10000"),
    ],
    ids=["poids", "lignes"],
)
def test_fichier_trop_grand_refuse_en_francais(client_a, etab_a, contenu, message):
    reponse = televerser(client_a, contenu, etab_a)
    assert reponse.status_code == 200
    assert "result" not in reponse.context
    erreurs = " ".join(reponse.context["form"].errors["import_file"])
    assert message in erreurs and "Découpez-le" in erreurs
    assert not PermisDeVisite.objects.exists()


def test_resource_refuse_un_fichier_trop_grand(etab_a, agent_a):
    from permis.resources import LIGNES_MAX

    contenu = ENTETE + "PV-1,1,A,B,01/02/1985,01/01/2026,,actif\n" * (LIGNES_MAX + 1)
    dataset = CSVPointVirgule().create_dataset(contenu.encode())
    resultat = PermisDeVisiteResource(etablissement=etab_a, auteur=agent_a).import_data(
        dataset, dry_run=False, use_transactions=True, rollback_on_validation_errors=True
    )
    assert resultat.has_errors()
    assert "au plus" in str(resultat.base_errors[0].error)
    assert not PermisDeVisite.objects.exists()
