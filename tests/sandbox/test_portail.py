"""The contract with the portal: a notification the sandbox really sent, replayed on the
portal's endpoint (POST /paiements/notifications/sandbox/), is accepted once, its duplicate
is stored once, a tampered one is refused with 400 and recorded."""

import pytest
from django.urls import reverse

from pecule.models import NotificationRecue, NotificationRejetee

from .aides import creer


@pytest.fixture
def portail(banque, settings):
    banque.configurer_portail(settings)
    yield
    from pecule import fournisseurs

    fournisseurs.reinitialiser()


def poster(client, notification, corps=None):
    return client.post(
        reverse("notifications_paiement", args=["sandbox"]),
        data=notification["corps"] if corps is None else corps,
        content_type="application/json",
        HTTP_PECULE_SIGNATURE=notification["entetes"]["Pecule-Signature"],
    )


@pytest.mark.django_db
def test_le_portail_accepte_les_notifications_de_la_sandbox(
    banque, fournisseur, recepteur, portail, client
):
    paiement = creer(fournisseur)
    banque.payer(paiement.url_redirection, issue="refus")
    (notification,) = recepteur.attendre(1)

    reponse = poster(client, notification)
    assert reponse.status_code == 200, reponse.content
    assert reponse.json() == {"recu": 1, "nouveaux": 1}
    assert poster(client, notification).json() == {"recu": 1, "nouveaux": 0}
    (stockee,) = NotificationRecue.objects.filter(fournisseur="sandbox")
    assert stockee.corps == notification["corps"].decode()

    trafiquee = notification["corps"].replace(b"REJECTED", b"EXECUTED")
    refus = poster(client, notification, corps=trafiquee)
    assert refus.status_code == 400
    assert refus.json() == {"erreur": "signature_invalide"}
    assert NotificationRejetee.objects.get().motif == "signature_invalide"
    assert NotificationRecue.objects.count() == 1
