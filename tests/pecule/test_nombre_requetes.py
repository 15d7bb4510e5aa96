"""Issue 15: the number of SQL statements of the hot paths, so that they cannot creep back.

Counted on transactional tests (no test transaction around them): a service's own
transaction is then a real BEGIN … COMMIT, and both count, as in production.
Before issue 15: a receipt took 10 statements (13 on the month's first), a notification's
credit 40 (with 4 savepoints and a Celery task queued per email).
"""

import datetime
import json
from decimal import Decimal as D

import pytest
from django.test import Client

from pecule import fournisseurs, tasks
from pecule.fournisseurs.base import EvenementFournisseur
from pecule.models import CourrielSortant, NotificationRecue, StatutRegie, Virement
from pecule.services import boite
from regie import services as regie_services
from regie.models import Ecriture, NatureEcriture
from tests.pecule.fournisseur_memoire import FournisseurMemoire
from tests.pecule.test_notifications import corps_json, signature

pytestmark = pytest.mark.django_db(transaction=True)

RECETTE_MAX = 6
CREDIT_MAX = 15  # per credit of a batch, the batch's two shared statements apart
TACHE_MAX = 17  # one notification's own task: take the row, credit, mark it, probe a batch


class FournisseurNotifiant(FournisseurMemoire):
    """The in-memory provider, reading the test's notification bodies."""

    def parse_notification(self, corps):
        lu = json.loads(corps)
        return [EvenementFournisseur(lu["e"], lu["p"], "execute", "EXECUTED")]


@pytest.fixture
def notifiant(settings):
    settings.PECULE_FOURNISSEURS = {"memoire": {"CLASSE": f"{__name__}.FournisseurNotifiant"}}
    fournisseurs.reinitialiser()
    FournisseurMemoire.vider()
    yield
    FournisseurMemoire.vider()
    fournisseurs.reinitialiser()


def notifications(situation, nombre):
    """`nombre` transfers executed at the provider, each with its inbox row."""
    lignes = []
    for i in range(nombre):
        FournisseurMemoire.paiements[f"mem-{i}"] = {"statut": "execute"}
        Virement.objects.create(
            cle_idempotence=f"k{i}",
            proche=situation["proche"],
            permis=situation["permis"],
            detenu=situation["detenu"],
            etablissement=situation["etablissement"],
            montant=D("10.00") + i,
            fournisseur="memoire",
            id_fournisseur=f"mem-{i}",
        )
        lignes.append(
            NotificationRecue.objects.create(
                fournisseur="memoire",
                id_evenement=f"e{i}",
                corps=json.dumps({"e": f"e{i}", "p": f"mem-{i}"}),
            )
        )
    return lignes


def tous_credites(nombre):
    assert Virement.objects.filter(statut_regie=StatutRegie.CREDITE).count() == nombre
    assert Ecriture.objects.filter(source__startswith="virement:").count() == nombre
    assert CourrielSortant.objects.filter(cle__startswith="credite:").count() == nombre
    assert not NotificationRecue.objects.filter(traitee_le__isnull=True).exists()


def test_recette_en_6_requetes_au_plus(situation, django_assert_max_num_queries):
    """Lock, entry (its unique source the duplicate check), counter upsert, lines,
    balances; the vigilance rules come with the lock. The month's first is no dearer."""
    compte = situation["detenu"].compte
    for i in range(2):
        with django_assert_max_num_queries(RECETTE_MAX):
            regie_services.encaisser_recette(
                compte=compte,
                montant=D("12.00"),
                nature=NatureEcriture.SUBSIDE_PROCHE,
                source=f"recette:{i}",
                motif="Mandat",
                auteur_systeme="test",
                emetteur="proche:1",
            )
    compte.refresh_from_db()
    assert compte.total == D("24.00")


def test_credit_par_lot_15_requetes_par_virement(
    situation, notifiant, django_assert_max_num_queries, monkeypatch
):
    """A batch of notifications: one statement takes the rows, one finds their transfers,
    then each credit in its own transaction in at most 15 statements, no task queued per
    email (the outbox is drained by batches)."""
    publiees = []
    monkeypatch.setattr("socle.taches.publier", lambda *args: publiees.append(args) or True)
    nombre = 4
    notifications(situation, nombre)
    with django_assert_max_num_queries(2 + CREDIT_MAX * nombre):
        assert boite.traiter_lot() == nombre
    tous_credites(nombre)
    assert publiees == []


def test_tache_d_une_notification(situation, notifiant, django_assert_max_num_queries):
    """The task queued for one row: take it (one UPDATE … RETURNING), find the transfer,
    credit, mark the row processed, then look for a batch (nothing left)."""
    (notification,) = notifications(situation, 1)
    with django_assert_max_num_queries(TACHE_MAX):
        tasks.traiter_notification.apply(args=[notification.pk])
    tous_credites(1)
    notification.refresh_from_db()
    assert notification.tentatives == 1
    # A late redelivery: one UPDATE that finds nothing, one that finds no batch to take.
    with django_assert_max_num_queries(2):
        tasks.traiter_notification.apply(args=[notification.pk])


def test_point_d_entree_une_insertion(settings, django_assert_max_num_queries, monkeypatch):
    """The endpoint writes its inbox row in one INSERT (its time of queueing with it) and
    queues the task after: nothing else touches the database."""
    from tests.pecule.test_notifications import SECRET

    settings.PECULE_FOURNISSEURS = {
        "sandbox": {
            "CLASSE": "pecule.fournisseurs.sandbox.FournisseurSandbox",
            "OPTIONS": {"url": "http://127.0.0.1:1", "secret": SECRET},
        }
    }
    fournisseurs.reinitialiser()
    publiees = []
    monkeypatch.setattr("pecule.tasks.publier", lambda *args: publiees.append(args) or True)
    corps = corps_json()
    client = Client()
    with django_assert_max_num_queries(1):
        reponse = client.post(
            "/paiements/notifications/sandbox/",
            data=corps,
            content_type="application/json",
            HTTP_PECULE_SIGNATURE=signature(corps),
        )
    assert reponse.status_code == 200, reponse.content
    notification = NotificationRecue.objects.get()
    assert notification.mise_en_file_le is not None
    assert [args[1:] for args in publiees] == [(notification.pk,)]
    fournisseurs.reinitialiser()


def test_lot_reprend_une_reservation_expiree(situation, notifiant, time_machine):
    """A batch's reservation outlives a killed worker by BAIL_LOT only: then another batch
    takes the row (an attempt more) and credits it once."""
    (notification,) = notifications(situation, 1)
    assert [p.pk for p in boite.reserver_lot(10)] == [notification.pk]  # then "killed"
    assert boite.reserver_lot(10) == []
    assert tasks.traiter_notification.apply(args=[notification.pk]).successful()
    assert Ecriture.objects.count() == 0  # left to the batch that reserved it
    time_machine.shift(boite.BAIL_LOT + datetime.timedelta(seconds=1))
    assert boite.traiter_lot() == 1
    tous_credites(1)
    notification.refresh_from_db()
    assert notification.tentatives == 2
