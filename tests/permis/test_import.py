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
