"""The relatives' pages through Django's test client: who may see them, whose permits
they show, the detainee's balance never shown, and the « Ajouter un permis de visite »
form's French messages. The browser journey is in tests/navigateur/."""

import datetime
import re
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from comptes.models import Utilisateur
from permis import services as permis_services
from permis.models import PermisEnregistre, TentativeEnregistrement
from regie import services as regie_services
from regie.models import CompteNominatif, NatureEcriture
from socle.formats import euros
from tests.factories import DetenuFactory, EtablissementFactory

pytestmark = pytest.mark.django_db

MESSAGE_CONNEXION = "Connectez-vous avec FranceConnect pour accéder à votre espace."
MESSAGE_RESERVE = "Cet espace est réservé aux proches connectés avec FranceConnect."


def texte(reponse) -> str:
    return reponse.content.decode().replace("&#x27;", "'").replace("&quot;", '"')


def proche(nom="DUBOIS", prenoms="Angela Claire Louise", naissance=datetime.date(1962, 8, 24)):
    return Utilisateur.objects.create(
        username=f"fc-{uuid.uuid4().hex[:12]}",
        fc_sub=uuid.uuid4().hex,
        fc_family_name=nom,
        fc_given_name=prenoms,
        fc_birthdate=naissance,
        email="proche@example.fr",
    )


def permis_pour(detenu, titulaire, numero):
    aujourdhui = timezone.localdate()
    return permis_services.creer_permis(
        etablissement=detenu.etablissement,
        numero=numero,
        detenu=detenu,
        titulaire_nom=titulaire.fc_family_name,
        titulaire_prenoms=titulaire.fc_given_name,
        titulaire_date_naissance=titulaire.fc_birthdate,
        date_debut=aujourdhui - datetime.timedelta(days=30),
        date_fin=aujourdhui + datetime.timedelta(days=300),
    )


@pytest.fixture
def etablissement():
    return EtablissementFactory(code="MA-SANTE", nom="Maison d'arrêt de Paris-la-Santé")


@pytest.fixture
def detenu(etablissement):
    return DetenuFactory(
        etablissement=etablissement,
        numero_ecrou="204518",
        nom="DURAND",
        prenoms="Paul",
        date_naissance=datetime.date(1988, 6, 3),
    )


@pytest.fixture
def angela():
    return proche()


@pytest.fixture
def martin():
    return proche("MARTIN", "Jean-Pierre", datetime.date(1975, 3, 14))


@pytest.fixture
def enregistrement_angela(angela, detenu):
    return PermisEnregistre.objects.create(
        proche=angela, permis=permis_pour(detenu, angela, "PV-2026-0042")
    )


@pytest.fixture
def enregistrement_martin(martin, etablissement):
    autre_detenu = DetenuFactory(
        etablissement=etablissement, numero_ecrou="309911", nom="LEROY", prenoms="Marc"
    )
    return PermisEnregistre.objects.create(
        proche=martin, permis=permis_pour(autre_detenu, martin, "PV-2026-0099")
    )


def pages_de_l_espace(pk):
    return [
        "/espace/",
        "/espace/permis/ajouter/",
        "/espace/pecule/",
        "/espace/pecule/historique/",
        f"/espace/pecule/{pk}/",
        f"/espace/pecule/{pk}/alimenter/",
    ]


# --- Who may enter ------------------------------------------------------------------------


def test_anonyme_renvoye_vers_l_accueil_et_franceconnect(client, enregistrement_angela):
    for url in pages_de_l_espace(enregistrement_angela.pk):
        reponse = client.get(url)
        assert reponse.status_code == 302 and reponse["Location"] == "/", url
        accueil = client.get(reponse["Location"])
        html = texte(accueil)
        assert MESSAGE_CONNEXION in html, url
        assert 'action="/oidc/authenticate/"' in html


def test_anonyme_ne_peut_rien_poster(client, detenu, etablissement):
    reponse = client.post(
        "/espace/permis/ajouter/",
        {"numero": "PV-1", "etablissement": etablissement.pk, "numero_ecrou": "204518"},
    )
    assert reponse.status_code == 302 and reponse["Location"] == "/"
    assert not TentativeEnregistrement.objects.exists()


@pytest.mark.parametrize("personnel", [True, False], ids=["personnel", "compte-sans-fc"])
def test_compte_hors_franceconnect_refuse(client, enregistrement_angela, personnel):
    agent = Utilisateur.objects.create(username="agent", is_staff=personnel)
    client.force_login(agent)
    for url in pages_de_l_espace(enregistrement_angela.pk):
        reponse = client.get(url)
        assert reponse.status_code == 302 and reponse["Location"] == "/", url
        assert MESSAGE_RESERVE in texte(client.get("/")), url


# --- Each relative sees their own permits only -------------------------------------------


def test_un_proche_ne_voit_que_ses_permis(
    client, angela, enregistrement_angela, enregistrement_martin
):
    client.force_login(angela)
    for url in ("/espace/", "/espace/pecule/"):
        html = texte(client.get(url))
        assert "Paul DURAND" in html
        assert "LEROY" not in html and "PV-2026-0099" not in html
    autre = enregistrement_martin.pk
    assert client.get(f"/espace/pecule/{autre}/").status_code == 404
    assert client.get(f"/espace/pecule/{autre}/alimenter/").status_code == 404
    assert client.post(f"/espace/pecule/{autre}/alimenter/", {"montant": "20"}).status_code == 404
    # An id that does not exist answers the same.
    inconnu = enregistrement_martin.pk + enregistrement_angela.pk + 1000
    assert client.get(f"/espace/pecule/{inconnu}/").status_code == 404


def test_accueil_sans_permis_faire_un_virement_mene_au_pecule(client, angela):
    client.force_login(angela)
    html = texte(client.get("/espace/"))
    assert re.search(r'<a class="fr-btn" href="/espace/pecule/">Faire un virement</a>', html)
    assert "Prendre un rendez-vous parloir" in html and "bientôt disponible" in html
    pecule = texte(client.get("/espace/pecule/"))
    assert "Un permis de visite est nécessaire" in pecule
    assert 'href="/espace/permis/ajouter/"' in pecule


def test_accueil_carte_du_permis(client, angela, enregistrement_angela):
    client.force_login(angela)
    html = texte(client.get("/espace/"))
    assert "Paul DURAND" in html and "permis n° PV-2026-0042" in html
    assert "Permis actif" in html
    assert f'href="/espace/pecule/{enregistrement_angela.pk}/">Faire un virement</a>' in html
    assert re.search(r"<button[^>]*disabled[^>]*>Prendre un rendez-vous parloir</button>", html)
    assert "Service bientôt disponible" in html


# --- The detainee's page ------------------------------------------------------------------


def test_la_page_du_detenu_ne_montre_jamais_le_solde(client, angela, enregistrement_angela, detenu):
    compte = CompteNominatif.objects.get(detenu=detenu)
    regie_services.encaisser_recette(
        compte=compte,
        montant=Decimal("1234.56"),
        nature=NatureEcriture.SALAIRE,
        source="test:espace-proche:solde",
        motif="Rémunération du travail",
        auteur_systeme="tests",
    )
    compte.refresh_from_db()
    soldes = {
        compte.part_disponible,
        compte.pecule_liberation,
        compte.parties_civiles,
        compte.part_disponible + compte.pecule_liberation + compte.parties_civiles,
    } - {Decimal(0)}
    assert Decimal("1234.56") in soldes
    client.force_login(angela)
    pk = enregistrement_angela.pk
    for url in (f"/espace/pecule/{pk}/", f"/espace/pecule/{pk}/alimenter/", "/espace/pecule/"):
        reponse = client.get(url)
        assert reponse.status_code == 200
        html = re.sub(r"\s", "", texte(reponse))
        for solde in soldes:
            for forme in (euros(solde), str(solde), str(solde).replace(".", ",")):
                assert re.sub(r"\s", "", forme) not in html, (url, forme)
    detenu_html = texte(client.get(f"/espace/pecule/{pk}/"))
    assert "Pécule de Paul DURAND" in detenu_html
    assert f'href="/espace/pecule/{pk}/alimenter/">Alimenter le pécule</a>' in detenu_html
    assert "1\u202f000,00 €" in detenu_html and "5\u202f000,00 €" in detenu_html  # the caps
    assert 'href="/espace/pecule/historique/">Voir l\'historique</a>' in detenu_html
    alimenter = texte(client.get(f"/espace/pecule/{pk}/alimenter/"))
    assert "Réaliser le virement" in alimenter and "plafonné par l'établissement" in alimenter


def test_permis_suspendu_apres_enregistrement(client, angela, enregistrement_angela):
    permis_services.suspendre_permis(
        permis=enregistrement_angela.permis, motif="Incident au parloir du 3 mars"
    )
    client.force_login(angela)
    pk = enregistrement_angela.pk
    html = texte(client.get(f"/espace/pecule/{pk}/"))
    assert "Permis actif" not in html and "Suspendu" in html
    assert "Alimenter le pécule" not in html
    assert f"/espace/pecule/{pk}/alimenter/" not in html
    assert "Virement impossible" in html
    assert "Incident au parloir" not in html  # the reason is internal to the administration
    for url in ("/espace/", "/espace/pecule/"):
        liste = texte(client.get(url))
        assert "Suspendu" in liste and "Permis actif" not in liste
    # The amount page typed by hand says the same, and no transfer can start from it.
    saisie = texte(client.get(f"/espace/pecule/{pk}/alimenter/"))
    assert "Virement impossible" in saisie and "Réaliser le virement" not in saisie
    reponse = client.post(
        f"/espace/pecule/{pk}/alimenter/", {"montant": "20", "jeton": str(uuid.uuid4())}
    )
    assert reponse.status_code == 200 and "Virement impossible" in texte(reponse)


# --- « Ajouter un permis de visite » ------------------------------------------------------


def test_formulaire_d_ajout_erreurs_en_francais(client, angela, etablissement):
    client.force_login(angela)
    # What a browser sends when nothing is typed.
    champs_vides = dict.fromkeys(
        ("numero", "etablissement", "numero_ecrou", "nom_detenu", "date_naissance_detenu"), ""
    )
    vide = texte(client.post("/espace/permis/ajouter/", champs_vides))
    assert "Indiquez le numéro du permis de visite." in vide
    assert "Sélectionnez l'établissement indiqué sur le permis." in vide
    sans_identite = client.post(
        "/espace/permis/ajouter/", {"numero": "PV-2026-0042", "etablissement": etablissement.pk}
    )
    assert sans_identite.status_code == 200
    html = texte(sans_identite)
    assert (
        "Indiquez le numéro d'écrou de la personne détenue, ou son nom et sa date de naissance."
        in html
    )
    assert 'role="alert"' in html
    assert "<title>Erreur : Ajouter un permis de visite — " in html
    nom_seul = texte(
        client.post(
            "/espace/permis/ajouter/",
            {"numero": "PV-2026-0042", "etablissement": etablissement.pk, "nom_detenu": "Durand"},
        )
    )
    assert "ou son nom et sa date de naissance" in nom_seul
    mauvaise_date = texte(
        client.post(
            "/espace/permis/ajouter/",
            {
                "numero": "PV-2026-0042",
                "etablissement": etablissement.pk,
                "nom_detenu": "Durand",
                "date_naissance_detenu": "1988-13-45",
            },
        )
    )
    assert "Saisissez une date au format JJ/MM/AAAA, par exemple 14/03/1975." in mauvaise_date
    assert 'aria-invalid="true"' in mauvaise_date
    assert not PermisEnregistre.objects.exists()


@pytest.mark.parametrize(
    "saisie",
    [
        {"numero": "PV-2026-9999", "numero_ecrou": "204518"},
        {"numero": "PV-2026-0077", "numero_ecrou": "999999"},
        {"numero": "PV-2026-0077", "nom_detenu": "Dupont", "date_naissance_detenu": "03/06/1988"},
        {"numero": "PV-2026-0088", "numero_ecrou": "204518"},
    ],
    ids=["numero-inconnu", "autre-ecrou", "autre-nom", "permis-d-un-autre-proche"],
)
def test_refus_generique_qui_ne_revele_rien(client, angela, martin, detenu, saisie):
    permis_pour(detenu, angela, "PV-2026-0077")
    permis_pour(detenu, martin, "PV-2026-0088")
    client.force_login(angela)
    reponse = client.post(
        "/espace/permis/ajouter/", {"etablissement": detenu.etablissement.pk, **saisie}
    )
    assert reponse.status_code == 200
    html = texte(reponse)
    assert permis_services.MESSAGE_VERIFICATION_IMPOSSIBLE in html
    # Nothing about the detainee or the permit's holder, besides what the relative typed.
    contenu = re.sub(r'value="[^"]*"', "", html.split('id="contenu"', 1)[1])
    for secret in ("DURAND", "Paul", "MARTIN", "Jean-Pierre", "1988"):
        assert secret not in contenu, secret
    assert not PermisEnregistre.objects.exists()


def test_ajout_accepte_puis_permis_suspendu_refuse_avec_sa_raison(client, angela, detenu):
    permis_pour(detenu, angela, "PV-2026-0042")
    suspendu = permis_pour(detenu, angela, "PV-2026-0043")
    permis_services.suspendre_permis(permis=suspendu)
    client.force_login(angela)
    donnees = {"etablissement": detenu.etablissement.pk, "numero_ecrou": "204518"}
    reponse = client.post("/espace/permis/ajouter/", {"numero": " pv-2026-0042 ", **donnees})
    assert reponse.status_code == 302 and reponse["Location"] == "/espace/"
    assert "Le permis de visite pour Paul DURAND a été ajouté à votre espace." in texte(
        client.get("/espace/")
    )
    refus = texte(client.post("/espace/permis/ajouter/", {"numero": "PV-2026-0043", **donnees}))
    assert permis_services.MESSAGE_PERMIS_INACTIF in refus
    assert PermisEnregistre.objects.filter(proche=angela).count() == 1


# --- History ------------------------------------------------------------------------------


def test_historique_vide(client, angela, enregistrement_angela, enregistrement_martin):
    from pecule.models import Virement

    # Another relative's transfer is not Angela's.
    permis = enregistrement_martin.permis
    Virement.objects.create(
        cle_idempotence=str(uuid.uuid4()),
        proche=enregistrement_martin.proche,
        permis=permis,
        detenu=permis.detenu,
        etablissement=permis.etablissement,
        montant=Decimal("40.00"),
        fournisseur="sandbox",
        id_fournisseur="paiement-de-test-1",
    )
    client.force_login(angela)
    reponse = client.get("/espace/pecule/historique/")
    assert reponse.status_code == 200
    html = texte(reponse)
    assert "Aucun virement sur les six derniers mois." in html
    assert "<table" not in html and "LEROY" not in html and "40,00" not in html
