"""Transfers: idempotent initiation, caps with pending transfers, the provider state
machine, crediting through the régie, the « à traiter » queue, the outbox."""

import datetime
import uuid
from decimal import Decimal as D

import pytest

from pecule import services
from pecule.fournisseurs.base import EtatPaiement
from pecule.models import CourrielSortant, EtatProche, StatutPaiement, StatutRegie, Virement
from permis import services as permis_services
from regie import services as regie_services
from regie.exceptions import (
    CoordonneesBancairesInvalides,
    DroitsInsuffisants,
    MontantInvalide,
    OperationInterdite,
    PlafondDepasse,
)
from regie.models import ChoixReliquat, Ecriture, LigneEcriture, Partie
from tests.factories import IBAN_FOURNISSEUR, IBAN_PROCHE, EtablissementFactory, agent
from tests.horloge import MI_DECEMBRE, MI_JUIN
from tests.pecule.conftest import creer_proche, permis_pour

pytestmark = pytest.mark.django_db


def initier(situation, montant="100.00", cle=None):
    return services.initier_virement(
        proche=situation["proche"],
        detenu=situation["detenu"],
        montant=D(montant),
        cle_idempotence=cle or str(uuid.uuid4()),
        url_retour="https://portail.invalid/retour",
    )


def etat(statut):
    return EtatPaiement(statut=statut, statut_brut=statut.upper())


def executer(virement):
    return services.appliquer_etat(virement=virement, etat=etat("execute"), origine="test")


# --- Initiation ------------------------------------------------------------------------


def test_initiation_idempotente(situation, fournisseur_memoire):
    cle = str(uuid.uuid4())
    premier = initier(situation, cle=cle)
    second = initier(situation, cle=cle)
    assert premier.pk == second.pk
    assert Virement.objects.count() == 1
    assert premier.id_fournisseur.startswith("mem-") and premier.url_banque
    paiement = fournisseur_memoire.paiements[premier.id_fournisseur]
    assert paiement["reference"] == premier.reference and len(premier.reference) <= 35
    assert paiement["libelle"].startswith(f"ECROU {situation['detenu'].numero_ecrou} ")
    assert premier.reference in paiement["libelle"] and len(paiement["libelle"]) <= 140
    assert paiement["iban"] == situation["etablissement"].regie_iban
    assert premier.etat_proche == EtatProche.EN_ATTENTE


def test_cle_d_un_autre_proche_refusee(situation, fournisseur_memoire):
    cle = str(uuid.uuid4())
    initier(situation, cle=cle)
    autre = creer_proche("autre", fc_sub="sub-autre")
    permis_pour(autre, situation["detenu"], numero="PV-2")
    with pytest.raises(services.VirementImpossible):
        initier({**situation, "proche": autre}, cle=cle)


@pytest.mark.parametrize(
    ("montant", "erreur", "message"),
    [
        ("0.50", MontantInvalide, "minimum"),
        ("12.345", MontantInvalide, "deux décimales"),
        ("300.01", PlafondDepasse, "300,00 €"),
    ],
)
def test_montants_refuses(situation, fournisseur_memoire, montant, erreur, message):
    with pytest.raises(erreur, match=message):
        initier(situation, montant=montant)
    assert Virement.objects.count() == 0


def test_plafond_mensuel_compte_les_virements_en_attente(situation, fournisseur_memoire):
    initier(situation, montant="300.00")  # pending at the bank
    with pytest.raises(PlafondDepasse, match="encore 200,00 €"):
        initier(situation, montant="250.00")
    initier(situation, montant="200.00")
    assert Virement.objects.count() == 2


def test_permis_non_actif_ou_prive_de_subsides(situation, fournisseur_memoire):
    permis_services.suspendre_permis(permis=situation["permis"], motif="incident")
    with pytest.raises(services.VirementImpossible, match="pas actif"):
        initier(situation)
    permis_services.reactiver_permis(permis=situation["permis"])
    detenu = situation["detenu"]
    detenu.prive_de_subsides_jusquau = detenu.compte.ouvert_le.date().replace(year=2099)
    detenu.save()
    with pytest.raises(services.VirementImpossible, match="ne peut pas recevoir"):
        initier(situation)


# --- State machine and crediting --------------------------------------------------------


@pytest.mark.parametrize(
    ("instant", "parts_attendues"),
    [
        # June: 200 € allowance; above it 20 % to part 1 and 10 % to the pécule (spec 01 ex. 5).
        (MI_JUIN, (D("10.00"), D("5.00"), D("235.00"))),
        # December: 400 € allowance, 250 € stays whole in the part disponible.
        (MI_DECEMBRE, (D("0.00"), D("0.00"), D("250.00"))),
    ],
    ids=["juin", "decembre"],
)
def test_execute_credite_avec_repartition_une_seule_fois(
    situation, fournisseur_memoire, time_machine, instant, parts_attendues
):
    time_machine.move_to(instant)
    virement = initier(situation, montant="250.00")
    services.appliquer_etat(virement=virement, etat=etat("autorise"), origine="test")
    for _ in range(3):
        virement = executer(virement)
    assert virement.statut_regie == StatutRegie.CREDITE
    assert virement.etat_proche == EtatProche.CREDITE
    ecriture = Ecriture.objects.get(source=f"virement:{virement.reference}")
    assert virement.ecriture == ecriture
    parts = {ligne.partie: ligne.montant for ligne in ecriture.lignes.all()}
    assert (
        parts.get(Partie.PARTIES_CIVILES, D("0.00")),
        parts.get(Partie.PECULE_LIBERATION, D("0.00")),
        parts[Partie.PART_DISPONIBLE],
    ) == parts_attendues
    assert ecriture.date_operation == instant.date()
    assert ecriture.emetteur == f"proche:{situation['proche'].pk}"
    assert CourrielSortant.objects.filter(cle=f"credite:{virement.reference}").count() == 1
    assert list(virement.evenements.values_list("apres", flat=True)) == [
        "initie",
        "autorise",
        "execute",
        "credite",
    ]


def test_statuts_finaux_ne_bougent_plus(situation, fournisseur_memoire):
    virement = executer(initier(situation))
    for statut in ("autorise", "initie", "refuse", "annule"):
        virement = services.appliquer_etat(virement=virement, etat=etat(statut), origine="test")
        assert virement.statut_paiement == StatutPaiement.EXECUTE
    assert Ecriture.objects.count() == 1


def test_succes_apres_echec_signale_sans_credit(situation, fournisseur_memoire):
    virement = services.appliquer_etat(
        virement=initier(situation), etat=etat("refuse"), origine="test"
    )
    assert virement.etat_proche == EtatProche.REFUSE
    assert CourrielSortant.objects.filter(cle=f"refuse:{virement.reference}").count() == 1
    virement = executer(virement)
    assert virement.statut_paiement == StatutPaiement.REFUSE and virement.a_verifier
    assert Ecriture.objects.count() == 0


def test_rang_inferieur_ignore(situation, fournisseur_memoire):
    virement = services.appliquer_etat(
        virement=initier(situation), etat=etat("autorise"), origine="test"
    )
    virement = services.appliquer_etat(virement=virement, etat=etat("initie"), origine="test")
    assert virement.statut_paiement == StatutPaiement.AUTORISE


def test_permis_retire_avant_credit_met_en_attente(situation, fournisseur_memoire):
    virement = initier(situation)
    permis_services.retirer_permis(permis=situation["permis"], motif="retrait")
    virement = executer(virement)
    assert virement.statut_regie == StatutRegie.A_TRAITER
    assert "permis" in virement.motif_a_traiter
    assert virement.etat_proche == EtatProche.CONFIRME
    assert Ecriture.objects.count() == 0


def test_plafond_reverifie_au_credit(situation, fournisseur_memoire):
    premier = initier(situation, montant="300.00")
    second = initier(situation, montant="200.00")
    # The caps are lowered between initiation and crediting.
    etablissement = situation["etablissement"]
    etablissement.plafond_mensuel_par_detenu = D("400.00")
    etablissement.save()
    assert executer(premier).statut_regie == StatutRegie.CREDITE
    second = executer(second)
    assert second.statut_regie == StatutRegie.A_TRAITER
    assert "400,00 €" in second.motif_a_traiter


def test_regisseur_credite_ou_retourne_un_virement_a_traiter(situation, fournisseur_memoire):
    regisseur = agent("Régisseur", situation["etablissement"])
    premier, second = initier(situation), initier(situation, montant="90.00")
    permis_services.suspendre_permis(permis=situation["permis"], motif="incident")
    premier, second = executer(premier), executer(second)
    assert {premier.statut_regie, second.statut_regie} == {StatutRegie.A_TRAITER}
    with pytest.raises(OperationInterdite, match="motif"):
        services.crediter_virement_a_traiter(virement=premier, auteur=regisseur, motif=" ")
    premier = services.crediter_virement_a_traiter(
        virement=premier, auteur=regisseur, motif="Permis suspendu après le paiement"
    )
    assert premier.statut_regie == StatutRegie.CREDITE and premier.ecriture.auteur == regisseur
    # The account the money came from is unknown (no statement, no payer account from
    # the provider): the régisseur is told what to do, and nothing changes.
    with pytest.raises(CoordonneesBancairesInvalides, match="importez le relevé bancaire"):
        services.retourner_virement(virement=second, auteur=regisseur, motif="Incident")
    second = services.retourner_virement(
        virement=second, auteur=regisseur, motif="Incident au parloir", iban=IBAN_PROCHE
    )
    assert second.etat_proche == EtatProche.RETOURNE
    ordre = second.ordre_retour
    assert (ordre.montant, ordre.beneficiaire_iban, ordre.ecriture) == (
        second.montant,
        IBAN_PROCHE,
        None,
    )
    assert ordre.beneficiaire_nom == "Angela Claire Louise DUBOIS"
    # The relative is told when the bank has paid it back, not before.
    assert not CourrielSortant.objects.filter(cle=f"retourne:{second.reference}").exists()
    with pytest.raises(OperationInterdite):
        services.retourner_virement(virement=second, auteur=regisseur, motif="encore")
    # Refused by the second person: back in the queue, to credit or return again.
    chef = agent("Chef d'établissement", situation["etablissement"])
    regie_services.refuser_ordre(ordre=ordre, auteur=chef, motif="IBAN d'un tiers")
    second = Virement.objects.get(pk=second.pk)
    assert second.est_a_traiter and second.etat_proche == EtatProche.CONFIRME
    assert Virement.objects.a_traiter().filter(pk=second.pk).exists()
    second = services.crediter_virement_a_traiter(
        virement=second, auteur=regisseur, motif="Permis rétabli"
    )
    assert second.statut_regie == StatutRegie.CREDITE


def test_regisseur_d_un_autre_etablissement_ne_decide_pas(situation, fournisseur_memoire):
    virement = initier(situation)
    permis_services.suspendre_permis(permis=situation["permis"], motif="incident")
    virement = executer(virement)
    autre = agent("Régisseur", EtablissementFactory())
    with pytest.raises(DroitsInsuffisants):
        services.retourner_virement(virement=virement, auteur=autre, motif="x")
    with pytest.raises(DroitsInsuffisants):
        services.crediter_virement_a_traiter(virement=virement, auteur=autre, motif="x")
    virement.refresh_from_db()
    assert virement.statut_regie == StatutRegie.A_TRAITER


def test_virement_d_un_proche_autorise_d422(situation, fournisseur_memoire):
    regisseur = agent("Régisseur", situation["etablissement"])
    chef = agent("Chef d'établissement", situation["etablissement"])
    autorisation = regie_services.demander_d422(
        detenu=situation["detenu"],
        montant=D("450.00"),
        objet="Prothèse auditive",
        emetteur_attendu="Angela DUBOIS",
        reliquat=ChoixReliquat.REPARTIR,
        date_demande=situation["detenu"].compte.ouvert_le.date(),
        auteur=regisseur,
        emetteur_ref=f"proche:{situation['proche'].pk}",
    )
    regie_services.decider_d422(
        autorisation=autorisation, accorder=True, motif="Justifié", auteur=chef
    )
    virement = executer(initier(situation, montant="450.00"))  # above the 300 € cap: authorised
    assert virement.statut_regie == StatutRegie.CREDITE
    compte = situation["detenu"].compte
    compte.refresh_from_db()
    assert compte.part_disponible_bloquee == D("450.00")
    assert LigneEcriture.objects.filter(bloque_d422=autorisation).count() == 1


def _autorisation_pour_le_proche(situation, montant):
    regisseur = agent("Régisseur", situation["etablissement"])
    chef = agent("Chef d'établissement", situation["etablissement"])
    autorisation = regie_services.demander_d422(
        detenu=situation["detenu"],
        montant=D(montant),
        objet="Prothèse auditive",
        emetteur_attendu="Angela DUBOIS",
        reliquat=ChoixReliquat.REPARTIR,
        date_demande=situation["detenu"].compte.ouvert_le.date(),
        auteur=regisseur,
        emetteur_ref=f"proche:{situation['proche'].pk}",
    )
    regie_services.decider_d422(
        autorisation=autorisation, accorder=True, motif="Justifié", auteur=chef
    )
    return autorisation, regisseur


def test_l_exoneration_d422_suit_le_virement_mis_en_attente(situation, fournisseur_memoire):
    """Spec 01 §9: whatever path credits a sum from the authorised sender, it is credited
    unsplit and blocked up to the authorisation's remainder; the excess is split."""
    autorisation, regisseur = _autorisation_pour_le_proche(situation, "200.00")
    virement = initier(situation, montant="250.00")
    permis_services.suspendre_permis(permis=situation["permis"], motif="incident")
    virement = executer(virement)
    assert virement.statut_regie == StatutRegie.A_TRAITER
    services.crediter_virement_a_traiter(virement=virement, auteur=regisseur, motif="Vérifié")
    compte = situation["detenu"].compte
    compte.refresh_from_db()
    # 200 blocked for the authorisation; the 50 € excess is an ordinary receipt of the
    # month (T0 = 0, under the 200 € allowance): all to the part disponible.
    assert (compte.parties_civiles, compte.pecule_liberation) == (D("0.00"), D("0.00"))
    assert (compte.part_disponible, compte.part_disponible_bloquee) == (
        D("250.00"),
        D("200.00"),
    )
    assert regie_services.montant_recu_d422(autorisation) == D("200.00")


def test_credite_apres_transfert_l_argent_suit_par_un_ordre(situation, fournisseur_memoire):
    """Held because the detainee was transferred: credited to the account now kept by the
    destination, and an order pays the destination régie from the one that received it."""
    origine = situation["etablissement"]
    destination = EtablissementFactory(code="DST", regie_iban=IBAN_FOURNISSEUR)
    virement = initier(situation, montant="100.00")
    regisseur_origine = agent("Régisseur", origine)
    regie_services.transferer_detenu(
        detenu=situation["detenu"],
        vers=destination,
        nouveau_numero_ecrou="D-1",
        auteur=regisseur_origine,
    )
    virement = executer(virement)
    assert virement.statut_regie == StatutRegie.A_TRAITER
    regisseur_destination = agent("Régisseur", destination)
    virement = services.crediter_virement_a_traiter(
        virement=virement, auteur=regisseur_destination, motif="Transféré à DST"
    )
    assert virement.ecriture.etablissement == destination
    ordre = virement.ecriture.ordres_virement.get()
    assert (ordre.etablissement, ordre.beneficiaire_iban, ordre.montant) == (
        origine,
        IBAN_FOURNISSEUR,
        D("100.00"),
    )


def test_notification_en_erreur_definitive_abandonnee_sans_relance(situation, settings):
    """A permanent provider error is recorded on the inbox row, which is left for a
    person and never re-queued; a transient one is retried."""
    from pecule import fournisseurs, tasks
    from pecule.fournisseurs.base import ErreurFournisseur, EvenementFournisseur
    from pecule.models import NotificationRecue
    from tests.pecule.fournisseur_memoire import FournisseurMemoire

    class FournisseurEnPanne(FournisseurMemoire):
        transitoire = False

        def parse_notification(self, corps):
            return [EvenementFournisseur("e1", "mem-x", "execute", "EXECUTED")]

        def get_payment(self, id_fournisseur):
            raise ErreurFournisseur("404 paiement inconnu", transitoire=type(self).transitoire)

    import sys

    sys.modules[__name__].FournisseurEnPanne = FournisseurEnPanne
    settings.PECULE_FOURNISSEURS = {"panne": {"CLASSE": f"{__name__}.FournisseurEnPanne"}}
    fournisseurs.reinitialiser()
    Virement.objects.create(
        cle_idempotence="k",
        proche=situation["proche"],
        permis=situation["permis"],
        detenu=situation["detenu"],
        etablissement=situation["etablissement"],
        montant=D("10.00"),
        fournisseur="panne",
        id_fournisseur="mem-x",
    )
    definitive = NotificationRecue.objects.create(
        fournisseur="panne", id_evenement="e1", corps="{}"
    )
    tasks.traiter_notification.apply(args=[definitive.pk])
    definitive.refresh_from_db()
    assert definitive.abandonnee_le is not None and "404" in definitive.derniere_erreur
    assert definitive.traitee_le is None
    NotificationRecue.objects.filter(pk=definitive.pk).update(
        recue_le=definitive.recue_le - datetime.timedelta(hours=1)
    )
    assert tasks.relancer_notifications() == 0

    FournisseurEnPanne.transitoire = True
    transitoire = NotificationRecue.objects.create(
        fournisseur="panne", id_evenement="e2", corps="{}"
    )
    from celery.exceptions import Retry

    with pytest.raises(Retry):  # scheduled again, with back-off
        tasks.traiter_notification.apply(args=[transitoire.pk])
    transitoire.refresh_from_db()
    assert transitoire.abandonnee_le is None and "404" in transitoire.derniere_erreur
    fournisseurs.reinitialiser()


def test_relance_ne_remet_pas_en_file_une_tache_deja_en_attente(db, monkeypatch):
    """The sweep re-queues only the rows whose task was not queued recently: a backlog in
    Redis is not queued twice."""
    from django.utils import timezone

    from pecule import tasks
    from pecule.models import NotificationRecue

    publiees = []
    monkeypatch.setattr(tasks, "publier", lambda tache, *args: publiees.append(args) or True)
    maintenant = timezone.now()
    ancienne = maintenant - datetime.timedelta(minutes=30)
    jamais = NotificationRecue.objects.create(
        fournisseur="f", id_evenement="1", corps="{}", recue_le=ancienne
    )
    recente = NotificationRecue.objects.create(
        fournisseur="f",
        id_evenement="2",
        corps="{}",
        recue_le=ancienne,
        mise_en_file_le=maintenant - datetime.timedelta(minutes=1),
    )
    perdue = NotificationRecue.objects.create(
        fournisseur="f",
        id_evenement="3",
        corps="{}",
        recue_le=ancienne,
        mise_en_file_le=maintenant - datetime.timedelta(minutes=10),
    )
    NotificationRecue.objects.create(
        fournisseur="f", id_evenement="4", corps="{}", recue_le=ancienne, traitee_le=maintenant
    )
    assert tasks.relancer_notifications() == 2
    assert sorted(args[0] for args in publiees) == sorted([jamais.pk, perdue.pk])
    recente.refresh_from_db()
    assert recente.mise_en_file_le < maintenant
