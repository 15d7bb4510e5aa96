"""Helpers of the reliability tests: signed notifications, concurrent POSTs, bounded waits
on the database, row locks held by the test, checks of the ledger and of the history."""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import hmac
import json
import threading
import time
import uuid
from decimal import Decimal

import requests
from django.db import connection, transaction

from tests.sandbox_banque import attendre

URL_RETOUR = "https://portail.invalid/retour"
PARALLELISME = 20  # concurrent POSTs (each one a request thread and a database connection)


# --- Notifications ------------------------------------------------------------------------


def signature(corps: bytes, secret: str, instant: int | None = None) -> str:
    """The sandbox's header: `t=<unix seconds>,v1=<HMAC-SHA256("<t>.<body>")>`."""
    t = int(time.time()) if instant is None else instant
    v1 = hmac.new(secret.encode(), f"{t}.".encode() + corps, hashlib.sha256).hexdigest()
    return f"t={t},v1={v1}"


def corps_notification(id_paiement: str, statut: str, id_evenement: str | None = None) -> bytes:
    """A notification body exactly like the sandbox's."""
    return json.dumps(
        {
            "id_evenement": id_evenement or str(uuid.uuid4()),
            "type": "paiement.statut",
            "paiement": {"id": id_paiement, "statut": statut},
            "survenu_le": datetime.datetime.now(datetime.UTC).isoformat(),
        },
        separators=(",", ":"),
    ).encode()


def poster(url: str, corps: bytes, entete: str | None) -> requests.Response:
    entetes = {"Content-Type": "application/json"}
    if entete is not None:
        entetes["Pecule-Signature"] = entete
    return requests.post(url, data=corps, headers=entetes, timeout=30)


def poster_en_parallele(
    url: str, corps: list[bytes], secret: str, parallelisme: int = PARALLELISME
) -> list[requests.Response]:
    """POST every body (each signed just before), from `parallelisme` threads released
    together by a barrier; returns the responses in the order of `corps`."""
    reponses: list[requests.Response | BaseException | None] = [None] * len(corps)
    suivant = iter(range(len(corps)))
    verrou = threading.Lock()
    nombre = min(parallelisme, len(corps))
    barriere = threading.Barrier(nombre)

    def envoyer():
        try:
            barriere.wait(timeout=30)
        except threading.BrokenBarrierError as exc:
            reponses[0] = exc
            return
        while True:
            with verrou:
                indice = next(suivant, None)
            if indice is None:
                return
            try:
                reponses[indice] = poster(url, corps[indice], signature(corps[indice], secret))
            except BaseException as exc:  # reported below
                reponses[indice] = exc

    fils = [threading.Thread(target=envoyer) for _ in range(nombre)]
    for fil in fils:
        fil.start()
    for fil in fils:
        fil.join(timeout=120)
    assert not any(fil.is_alive() for fil in fils), "POST threads still running"
    for reponse in reponses:
        if not isinstance(reponse, requests.Response):
            raise AssertionError(f"POST failed: {reponse!r}")
    return reponses  # type: ignore[return-value]


def notifications_de_la_banque(banque, id_paiement: str, etat: str | None = None) -> list[dict]:
    return [n for n in banque.notifications(id_paiement) if etat is None or n["etat"] == etat]


def corps_abandonnes(banque, virement, nombre: int, delai: float = 10.0) -> dict[str, bytes]:
    """The bodies of the notifications the bank dropped (switch `drop`) for this transfer,
    by raw status, once there are `nombre` of them."""

    def perdues():
        liste = notifications_de_la_banque(banque, virement.id_fournisseur, "abandonnee")
        return liste if len(liste) >= nombre else None

    return {
        n["statut"]: n["corps"].encode()
        for n in attendre(perdues, delai=delai, message="the bank produced no notification")
    }


# --- Transfers ----------------------------------------------------------------------------


def initier(situation, montant: str = "100.00", proche=None):
    """« Réaliser le virement » through the service (the payment is created at the sandbox)."""
    from pecule import services

    return services.initier_virement(
        proche=proche or situation["proche"],
        detenu=situation["detenu"],
        montant=Decimal(montant),
        cle_idempotence=uuid.uuid4().hex,
        url_retour=URL_RETOUR,
    )


def recharger(virement):
    from pecule.models import Virement

    return Virement.objects.get(pk=virement.pk)


def attendre_virement(virement, condition, delai: float = 30.0, message: str = ""):
    """Poll the transfer until `condition(transfer)`; returns it."""

    def verifier():
        frais = recharger(virement)
        return frais if condition(frais) else None

    return attendre(
        verifier,
        delai=delai,
        pas=0.05,
        message=message or f"transfer {virement.reference} not in the expected state",
    )


def attendre_notifications_traitees(nombre: int | None = None, delai: float = 30.0) -> None:
    """Wait until every stored notification is processed (and, if given, `nombre` stored)."""
    from pecule.models import NotificationRecue

    def fini():
        total = NotificationRecue.objects.count()
        restantes = NotificationRecue.objects.filter(traitee_le__isnull=True).count()
        return restantes == 0 and (nombre is None or total == nombre) and total > 0

    attendre(fini, delai=delai, pas=0.05, message="notifications not all processed")


def ecritures(virement) -> int:
    """Ledger entries of this transfer (source virement:<reference>)."""
    from regie.models import Ecriture

    return Ecriture.objects.filter(source=f"virement:{virement.reference}").count()


def verifier_historique_monotone(virement) -> list[tuple[str, str]]:
    """The payment status only ever went up in rank, and never left a final status (the
    only entry from a final status is the flag of a success announced after a failure,
    which changes nothing)."""
    from pecule.models import RANG_STATUT, STATUTS_FINAUX, EvenementVirement, StatutPaiement

    statuts = set(StatutPaiement.values)
    evenements = [
        e
        for e in EvenementVirement.objects.filter(virement=virement).order_by("quand", "pk")
        if e.apres in statuts and e.avant in statuts
    ]
    transitions = [(e.avant, e.apres) for e in evenements]
    for evenement in evenements:
        if evenement.avant in STATUTS_FINAUX:
            assert evenement.apres == StatutPaiement.EXECUTE, transitions
            assert "non appliqué" in evenement.details, transitions
            continue
        assert RANG_STATUT[evenement.apres] > RANG_STATUT[evenement.avant], transitions
    applique = [apres for (avant, apres) in transitions if avant not in STATUTS_FINAUX]
    if applique:
        assert virement.statut_paiement == applique[-1], transitions
    return transitions


# --- Locks --------------------------------------------------------------------------------


@contextlib.contextmanager
def verrou(modele, pk):
    """Hold `SELECT … FOR UPDATE` on one row in this process's connection for the block:
    a worker that needs the row waits, inside its own transaction."""
    with transaction.atomic():
        modele.objects.select_for_update().get(pk=pk)
        yield


def en_attente_de_verrou(table: str) -> int:
    """Other sessions of this database waiting for a lock in a `SELECT` on `table` (its
    first column: the text shown is cut after track_activity_query_size bytes)."""
    with connection.cursor() as curseur:
        # Inside a transaction (the test holding a lock), pg_stat_activity would keep
        # showing the snapshot of its first read.
        curseur.execute("SELECT pg_stat_clear_snapshot()")
        curseur.execute(
            """SELECT count(*) FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid()
              AND wait_event_type = 'Lock' AND query LIKE %s""",
            [f'SELECT "{table}".%'],
        )
        return curseur.fetchone()[0]


def attendre_attente_de_verrou(table: str, nombre: int = 1, delai: float = 30.0) -> None:
    attendre(
        lambda: en_attente_de_verrou(table) >= nombre,
        delai=delai,
        pas=0.05,
        message=f"no {nombre} session(s) waiting for a lock on {table}",
    )
