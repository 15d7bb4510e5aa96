"""The `donnees_demo` command: idempotent, consistent ledger, every demo situation present."""

from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from regie import selectors
from regie.models import (
    Affectation,
    AutorisationD422,
    CompteNominatif,
    CompteurMensuel,
    DecisionMagistrat,
    Detenu,
    Ecriture,
    Etablissement,
    EvenementD422,
    LigneEcriture,
    Regime,
    StatutD422,
    StatutPenal,
)

MODELES = [
    Etablissement,
    Detenu,
    CompteNominatif,
    CompteurMensuel,
    Ecriture,
    LigneEcriture,
    AutorisationD422,
    EvenementD422,
    Affectation,
]


def lancer(*args) -> str:
    sortie = StringIO()
    call_command("donnees_demo", *args, stdout=sortie)
    return sortie.getvalue()


def comptages() -> dict[str, int]:
    comptes = {modele.__name__: modele.objects.count() for modele in MODELES}
    comptes["Utilisateur"] = get_user_model().objects.count()
    return comptes


@pytest.mark.django_db
def test_deux_executions_donnent_les_memes_donnees_et_un_registre_coherent():
    premiere = lancer()
    apres_premiere = comptages()
    seconde = lancer()

    assert comptages() == apres_premiere
    assert apres_premiere["Etablissement"] == 2
    assert apres_premiere["Detenu"] == apres_premiere["CompteNominatif"] == 7
    assert apres_premiere["Utilisateur"] == 4
    assert apres_premiere["Ecriture"] > 0
    assert "0 déjà présente(s)" in premiere
    assert "0 écriture(s) passée(s)" in seconde
    for compte in CompteNominatif.objects.all():
        assert selectors.ecarts(compte) == [], compte


@pytest.mark.django_db
def test_les_situations_de_demonstration_existent():
    lancer()
    detenus = Detenu.objects.select_related("compte")

    assert detenus.filter(statut_penal=StatutPenal.PREVENU).exists()
    pse = detenus.get(regime=Regime.SURVEILLANCE_ELECTRONIQUE)
    assert pse.compte.pecule_liberation == 0 and pse.compte.part_disponible > 0

    en_attente = AutorisationD422.objects.get(statut=StatutD422.DEMANDEE)
    assert en_attente.enregistree_par.groups.filter(name="Régisseur").exists()
    assert en_attente.decidee_par is None

    autorisee = AutorisationD422.objects.get(statut=StatutD422.AUTORISEE)
    assert autorisee.detenu.statut_penal == StatutPenal.PREVENU
    assert autorisee.magistrat_decision == DecisionMagistrat.FAVORABLE
    assert autorisee.decidee_par.groups.filter(name="Chef d'établissement").exists()
    assert autorisee.decidee_par_id != autorisee.enregistree_par_id

    plafond = [d for d in detenus if d.plafond_parties_civiles]
    assert any(d.compte.parties_civiles >= Decimal("1000.00") for d in plafond)

    prives = [d for d in detenus if d.est_prive_de_subsides(timezone.localdate())]
    assert len(prives) == 1

    ordinaire = detenus.get(numero_ecrou="194512")
    natures = set(Ecriture.objects.filter(compte=ordinaire.compte).values_list("nature", flat=True))
    assert {"subside_proche", "cantine"} <= natures


@pytest.mark.django_db
def test_personnel_et_superutilisateur():
    sortie = lancer("--mot-de-passe", "un-autre-mot-de-passe", "--superutilisateur")
    Utilisateur = get_user_model()

    for username in ("regisseur.fresnes", "chef.fresnes", "regisseur.lyon", "chef.lyon"):
        agent = Utilisateur.objects.get(username=username)
        assert agent.is_staff and not agent.is_superuser and agent.fc_sub is None
        assert agent.check_password("un-autre-mot-de-passe")
        assert agent.affectations.count() == 1
    admin = Utilisateur.objects.get(username="admin")
    assert admin.is_superuser and admin.check_password("un-autre-mot-de-passe")
    assert "un-autre-mot-de-passe" in sortie
    assert Etablissement.objects.get(code="FRE").plafond_mensuel_par_emetteur is not None
    assert Etablissement.objects.get(code="LYC").plafond_mensuel_par_emetteur is None
