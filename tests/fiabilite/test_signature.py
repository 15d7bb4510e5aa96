"""A forged, tampered, missing, unreadable or stale signature: 400, recorded, nothing stored,
nothing queued, nothing changed (the real endpoint on a live server, publishing to Redis)."""

import time

import pytest

from pecule.models import NotificationRecue, NotificationRejetee, StatutPaiement, Virement
from tests.fiabilite.conftest import CHEMIN_NOTIFICATIONS
from tests.fiabilite.outils import (
    attendre,
    initier,
    notifications_de_la_banque,
    poster,
    signature,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_signatures_refusees_enregistrees_sans_effet(
    banque, situation, redis_tests, file_isolee, live_server
):
    """No worker consumes this test's queue (`file_isolee`): what is queued stays there."""
    url = f"{live_server.url}{CHEMIN_NOTIFICATIONS}"
    banque.configurer(drop=5)
    virement = initier(situation, "150.00")
    banque.payer(virement.url_banque, issue="succes")
    (executee,) = attendre(
        lambda: [
            n
            for n in notifications_de_la_banque(banque, virement.id_fournisseur, "abandonnee")
            if n["statut"] == "EXECUTED"
        ],
        delai=10,
    )
    corps = executee["corps"].encode()
    secret = banque.secret
    cas = {
        "signature_invalide": [
            (corps, signature(corps, "un-autre-secret")),  # forged
            (corps.replace(b"EXECUTED", b"REJECTED"), signature(corps, secret)),  # tampered
            (corps, signature(corps, secret).replace("v1=", "v1=0", 1)[:-1]),  # altered
        ],
        "signature_absente": [(corps, None), (corps, "")],
        "signature_illisible": [(corps, "t=abc,v1=1234"), (corps, "n'importe quoi")],
        # Signed at the moment of posting (a second late, a signature 301 s ahead would
        # be only 300 s ahead).
        "signature_perimee": [
            (corps, lambda: signature(corps, secret, int(time.time()) - 301)),  # stale
            (corps, lambda: signature(corps, secret, int(time.time()) + 302)),  # future
        ],
    }
    attendus = []
    for motif, envois in cas.items():
        for contenu, entete in envois:
            reponse = poster(url, contenu, entete() if callable(entete) else entete)
            assert reponse.status_code == 400, (motif, reponse.text)
            assert reponse.json() == {"erreur": motif}
        attendus.append((motif, len(envois)))

    # Aggregated: one row per reason, address and hour, with its count (an hour may turn
    # during the test: the counts are added up per reason).
    comptes = {}
    for motif, nombre in NotificationRejetee.objects.order_by("pk").values_list("motif", "nombre"):
        comptes[motif] = comptes.get(motif, 0) + nombre
    assert list(comptes.items()) == attendus
    assert NotificationRejetee.objects.count() <= 2 * len(attendus)
    rejet = NotificationRejetee.objects.order_by("pk").first()
    assert rejet.fournisseur == "sandbox"
    assert rejet.adresse_ip == "127.0.0.1"
    assert rejet.extrait == corps.decode()
    assert NotificationRecue.objects.count() == 0
    assert redis_tests.llen(file_isolee) == 0  # nothing queued
    virement = Virement.objects.get(pk=virement.pk)
    assert virement.statut_paiement == StatutPaiement.INITIE
    assert virement.ecriture is None

    # The same body, correctly signed: accepted, stored, queued once.
    reponse = poster(url, corps, signature(corps, secret))
    assert reponse.status_code == 200
    assert reponse.json() == {"recu": 1, "nouveaux": 1}
    assert NotificationRecue.objects.count() == 1
    assert redis_tests.llen(file_isolee) == 1
