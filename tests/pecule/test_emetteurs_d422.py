"""The D.422 request names its sender from the relatives holding a valid registered permit
for that detainee (regie.emetteurs asks pecule.emetteurs, named in the settings: the
régie imports neither the permits nor the relatives), and the chef's « À faire »."""

import re
import uuid
from decimal import Decimal as D

import pytest
from django.urls import reverse

from pecule import emetteurs, services
from permis.models import StatutPermis
from regie import emetteurs as regie_emetteurs
from regie.models import AutorisationD422, StatutPenal
from socle.dates import aujourdhui
from tests.factories import DetenuFactory, agent

from .conftest import creer_proche, permis_pour

pytestmark = pytest.mark.django_db


def _texte(reponse) -> str:
    return re.sub(r"\s+", " ", reponse.content.decode()).replace("&#x27;", "'")


def test_seuls_les_proches_au_permis_valable_de_ce_detenu(situation):
    detenu, angela = situation["detenu"], situation["proche"]
    autre_detenu = DetenuFactory(etablissement=situation["etablissement"])
    martin = creer_proche(
        "martin", fc_sub="sub-martin", fc_given_name="Jean", fc_family_name="MARTIN"
    )
    permis_pour(martin, autre_detenu, numero="PV-2")
    suspendu = creer_proche("s", fc_sub="sub-s", fc_given_name="Suzy", fc_family_name="SUSPENDUE")
    permis_pour(suspendu, detenu, numero="PV-3", statut=StatutPermis.SUSPENDU)

    choix = regie_emetteurs.emetteurs_possibles([detenu, autre_detenu])
    assert choix[detenu.pk] == [
        (services.emetteur_de(angela), "Angela Claire Louise DUBOIS – permis n° PV-1")
    ]
    assert choix[autre_detenu.pk] == [
        (services.emetteur_de(martin), "Jean MARTIN – permis n° PV-2")
    ]
    assert regie_emetteurs.libelle_emetteur(services.emetteur_de(angela)) == (
        "Angela Claire Louise DUBOIS"
    )
    assert regie_emetteurs.libelle_emetteur("demo:inconnu") == "demo:inconnu"
    assert emetteurs.libelles_emetteurs(["proche:abc", "x"]) == {}


def test_sans_annuaire_la_regie_garde_la_saisie_libre(settings, situation):
    settings.REGIE_ANNUAIRE_EMETTEURS = ""
    assert regie_emetteurs.emetteurs_possibles([situation["detenu"]]) == {}
    assert regie_emetteurs.libelle_emetteur("proche:1") == "proche:1"


def test_la_demande_nomme_le_proche_choisi(client, situation):
    detenu, angela = situation["detenu"], situation["proche"]
    regisseur = agent("Régisseur", situation["etablissement"])
    client.force_login(regisseur)
    url = reverse("admin:regie_autorisationd422_add")
    page = _texte(client.get(url, {"detenu": detenu.pk}))
    assert (
        f'<option value="proche:{angela.pk}">Angela Claire Louise DUBOIS – permis n° PV-1' in page
    )

    donnees = {
        "jeton": str(uuid.uuid4()),
        "detenu": detenu.pk,
        "montant": "300",
        "objet": "Prothèse dentaire",
        "emetteur_ref": services.emetteur_de(angela),
        "emetteur_attendu": "",
        "reliquat": "repartir",
        "date_demande": aujourdhui().isoformat(),
    }
    # A relative of another detainee cannot be named.
    autre = DetenuFactory(etablissement=situation["etablissement"])
    refus = _texte(client.post(url, {**donnees, "detenu": autre.pk}))
    assert "Ce proche n'a pas de permis de visite valable enregistré" in refus
    # Neither a relative nor a typed sender: said so.
    vide = _texte(client.post(url, {**donnees, "emetteur_ref": "", "jeton": str(uuid.uuid4())}))
    assert "Indiquez l'émetteur attendu, ou choisissez un proche" in vide
    assert not AutorisationD422.objects.exists()

    assert client.post(url, donnees).status_code == 302
    autorisation = AutorisationD422.objects.get()
    assert autorisation.emetteur_ref == services.emetteur_de(angela)
    assert autorisation.emetteur_attendu == "Angela Claire Louise DUBOIS"
    fiche = _texte(
        client.get(reverse("admin:regie_autorisationd422_change", args=[autorisation.pk]))
    )
    assert "Angela Claire Louise DUBOIS" in fiche
    assert f"proche:{angela.pk}" not in fiche
    assert "Autorisation D.422 n°" in fiche and "300,00 €" in fiche
    assert "Décision du magistrat (personne prévenue)" not in fiche  # a condamné
    liste = _texte(client.get(reverse("admin:regie_autorisationd422_changelist")))
    assert ">PK<" not in liste and "N°" in liste and "300,00 €" in liste

    # The chef's « À faire »; the régisseur has nothing to decide.
    chef = agent("Chef d'établissement", situation["etablissement"])
    client.force_login(chef)
    assert "1</strong> demande de subside exonéré (D.422) à décider" in _texte(
        client.get("/admin/")
    )
    client.force_login(regisseur)
    assert "à décider" not in _texte(client.get("/admin/"))


def test_a_faire_du_magistrat_pour_une_personne_prevenue(client, situation):
    from regie import services as regie

    detenu = situation["detenu"]
    detenu.statut_penal = StatutPenal.PREVENU
    detenu.save()
    regisseur = agent("Régisseur", situation["etablissement"])
    regie.demander_d422(
        detenu=detenu,
        montant=D("100.00"),
        objet="Lunettes",
        emetteur_attendu="Sa sœur",
        reliquat="repartir",
        date_demande=aujourdhui(),
        auteur=regisseur,
    )
    client.force_login(regisseur)
    accueil = _texte(client.get("/admin/"))
    assert "1</strong> décision du magistrat à enregistrer" in accueil
    chef = agent("Chef d'établissement", situation["etablissement"])
    client.force_login(chef)
    assert "à décider" not in _texte(client.get("/admin/"))  # the magistrate first
