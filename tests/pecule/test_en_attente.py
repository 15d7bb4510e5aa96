"""Pending transfers and the caps (issue 11 items 2 and 3, issue 13 item 2; spec 01 §9):
which pending states count against a cap, for how long and for whom; a D.422
authorisation exempts only its remainder; going back from the bank does not create a
second payment. The establishment of `situation` caps 300 € a transfer, 500 € a month."""

import datetime
import uuid
from decimal import Decimal as D

import pytest

from pecule import services
from pecule.fournisseurs.base import ErreurFournisseur, EtatPaiement
from pecule.models import EvenementVirement, StatutPaiement, StatutRegie, Virement
from pecule.tasks import verifier_virements_en_cours
from regie import services as regie_services
from regie.exceptions import PlafondDepasse
from regie.models import ChoixReliquat
from tests.factories import agent
from tests.pecule.conftest import creer_proche, permis_pour

pytestmark = pytest.mark.django_db


def initier(situation, montant, proche=None, cle=None):
    return services.initier_virement(
        proche=proche or situation["proche"],
        detenu=situation["detenu"],
        montant=D(montant),
        cle_idempotence=cle or str(uuid.uuid4()),
        url_retour="https://portail.invalid/retour",
    )


def appliquer(virement, statut):
    return services.appliquer_etat(
        virement=virement,
        etat=EtatPaiement(statut=statut, statut_brut=statut.upper()),
        origine="test",
    )


@pytest.fixture
def autre(situation):
    proche = creer_proche("autre", fc_sub="sub-autre", fc_given_name="Paul")
    permis_pour(proche, situation["detenu"], numero="PV-2")
    return proche


def autoriser_d422(situation, montant):
    regisseur = agent("Régisseur", situation["etablissement"])
    chef = agent("Chef d'établissement", situation["etablissement"])
    autorisation = regie_services.demander_d422(
        detenu=situation["detenu"],
        montant=D(montant),
        objet="Lunettes",
        emetteur_attendu="Angela DUBOIS",
        reliquat=ChoixReliquat.REPARTIR,
        date_demande=situation["detenu"].compte.ouvert_le.date(),
        auteur=regisseur,
        emetteur_ref=f"proche:{situation['proche'].pk}",
    )
    regie_services.decider_d422(
        autorisation=autorisation, accorder=True, motif="Justifié", auteur=chef
    )
    return autorisation


# --- Item 2: a D.422 authorisation exempts its remainder only ---------------------------


def test_une_autorisation_d422_n_exonere_que_son_reste(situation, fournisseur_memoire):
    """With an 80 € authorisation, 5 000 € went to the bank (and was then held)."""
    autoriser_d422(situation, "80.00")
    with pytest.raises(PlafondDepasse, match="plafond par virement"):
        initier(situation, "5000.00")
    with pytest.raises(PlafondDepasse, match="plafond par virement"):
        initier(situation, "380.01")  # 300.01 above the authorisation
    assert not Virement.objects.exists()
    premier = initier(situation, "380.00")  # 80 exempt + 300 under the caps
    # The pending 380 used the authorisation: 300 of it counts; 200 € left this month.
    with pytest.raises(PlafondDepasse, match="encore 200,00 €"):
        initier(situation, "250.00")
    # Credited, its part above the authorisation counts in the month like any transfer.
    assert appliquer(premier, "execute").statut_regie == StatutRegie.CREDITE
    with pytest.raises(PlafondDepasse, match="encore 200,00 €"):
        initier(situation, "250.00")
    initier(situation, "200.00")


def test_le_reste_autorise_est_partage_entre_les_virements_en_attente(
    situation, fournisseur_memoire
):
    autoriser_d422(situation, "450.00")
    initier(situation, "300.00")  # exempt
    initier(situation, "150.00")  # exempt: the authorisation is used up by these two
    with pytest.raises(PlafondDepasse, match="plafond par virement"):
        initier(situation, "301.00")  # nothing left exempt: 301 > 300 per transfer
    initier(situation, "290.00")  # subject, under the caps


# --- Item 3: pending amounts do not outlive their chance of being paid -------------------


def test_panne_du_prestataire_ne_consomme_pas_le_plafond(situation, fournisseur_memoire):
    """The provider down: the person is told nothing was done, and nothing is held."""
    fournisseur_memoire.en_panne = True
    cle = str(uuid.uuid4())
    with pytest.raises(ErreurFournisseur):
        initier(situation, "300.00", cle=cle)
    echoue = Virement.objects.get()
    assert echoue.id_fournisseur is None and echoue.creation_en_cours_depuis is None
    fournisseur_memoire.en_panne = False
    # Another amount at once: the failed one does not count (300 + 250 would pass 500).
    autre_virement = initier(situation, "250.00")
    assert autre_virement.id_fournisseur
    # The same form again: checked again like a new one (300 + 250 > 500: refused).
    with pytest.raises(PlafondDepasse, match="encore 250,00 €"):
        initier(situation, "300.00", cle=cle)
    # Not closed before its creation window is over (see the next test).
    assert services.etats.clore_virements_jamais_crees() == []
    echoue.refresh_from_db()
    assert echoue.statut_paiement == StatutPaiement.INITIE


def test_virement_jamais_cree_clos_par_le_poller(situation, fournisseur_memoire, time_machine):
    fournisseur_memoire.en_panne = True
    cle = str(uuid.uuid4())
    with pytest.raises(ErreurFournisseur):
        initier(situation, "100.00", cle=cle)
    # A process that dies during the provider call leaves a row "being created".
    mort = Virement.objects.create(
        cle_idempotence=str(uuid.uuid4()),
        proche=situation["proche"],
        permis=situation["permis"],
        detenu=situation["detenu"],
        etablissement=situation["etablissement"],
        montant=D("400.00"),
        fournisseur="memoire",
        creation_en_cours_depuis=datetime.datetime.now(tz=datetime.UTC),
    )
    fournisseur_memoire.en_panne = False
    with pytest.raises(PlafondDepasse):
        initier(situation, "150.00")  # 400 being created + 150 > 500
    time_machine.shift(services.commun.DELAI_CREATION + datetime.timedelta(seconds=1))
    initier(situation, "150.00")  # the dead creation no longer counts
    verifier_virements_en_cours()
    for virement in (Virement.objects.get(cle_idempotence=cle), mort):
        virement.refresh_from_db()
        assert virement.statut_paiement == StatutPaiement.ANNULE
        assert "n'a pas pu créer" in virement.motif
    with pytest.raises(services.VirementImpossible, match="plus valable"):
        initier(situation, "100.00", cle=cle)


def test_paiement_abandonne_ne_compte_plus_apres_l_expiration_du_prestataire(
    situation, fournisseur_memoire, time_machine
):
    abandonne = initier(situation, "300.00")  # never approved; the provider says nothing
    with pytest.raises(PlafondDepasse, match="encore 200,00 €"):
        initier(situation, "250.00")
    time_machine.move_to(abandonne.expire_le + datetime.timedelta(seconds=1))
    initier(situation, "250.00")
    abandonne.refresh_from_db()
    assert abandonne.statut_paiement == StatutPaiement.INITIE  # only the provider expires it


def test_paiement_non_valide_d_un_proche_ne_bloque_pas_les_autres(
    situation, fournisseur_memoire, autre
):
    initier(situation, "300.00", proche=autre)  # awaiting Paul's approval
    initier(situation, "300.00")  # Angela is not blocked by it
    approuve = initier(situation, "200.00", proche=autre)
    appliquer(approuve, "autorise")  # approved at the bank: counts for everyone
    with pytest.raises(PlafondDepasse, match="encore 0,00 €"):
        initier(situation, "1.00")


def test_un_virement_en_attente_compte_le_mois_ou_il_sera_credite(
    situation, fournisseur_memoire, time_machine
):
    """Initiated on 30 June, still pending at the bank on 1 July: it will be credited in
    July, so it counts against July's cap (it counted in June only)."""
    time_machine.move_to(datetime.datetime(2026, 6, 30, 20, 0, tzinfo=datetime.UTC))
    appliquer(initier(situation, "300.00"), "autorise")
    time_machine.move_to(datetime.datetime(2026, 7, 1, 8, 0, tzinfo=datetime.UTC))
    with pytest.raises(PlafondDepasse, match="encore 200,00 €"):
        initier(situation, "250.00")


# --- Issue 13 item 2: back from the bank, the form submitted again ------------------------


def test_retour_arriere_depuis_la_banque_reprend_le_paiement(situation, fournisseur_memoire):
    premier = initier(situation, "120.00")
    second = initier(situation, "120.00")  # a new form, the same amount
    assert second.pk == premier.pk and second.url_banque == premier.url_banque
    assert Virement.objects.count() == 1 and fournisseur_memoire.appels_creation == 1
    assert EvenementVirement.objects.filter(virement=premier, source="reprise").exists()
    # Another amount is another transfer.
    assert initier(situation, "50.00").pk != premier.pk


def test_paiement_approuve_entre_temps_pas_repris(situation, fournisseur_memoire):
    premier = initier(situation, "120.00")
    fournisseur_memoire.fixer(premier.id_fournisseur, "autorise")  # approved at the bank
    second = initier(situation, "120.00")
    assert second.pk != premier.pk
    premier.refresh_from_db()
    assert premier.statut_paiement == StatutPaiement.AUTORISE  # the provider was asked


def test_paiement_d_un_autre_proche_ou_expire_pas_repris(
    situation, fournisseur_memoire, autre, time_machine
):
    premier = initier(situation, "120.00")
    assert initier(situation, "120.00", proche=autre).pk != premier.pk
    time_machine.move_to(premier.expire_le + datetime.timedelta(seconds=1))
    assert initier(situation, "120.00").pk != premier.pk
