"""The signed notifications the sandbox POSTs (to a local receiver), checked with the
adapter's verify_notification / parse_notification; retries until a 2xx; the duplicate, delay,
reorder and drop switches."""

import time

import pytest

from tests.sandbox_banque import attendre, evenement

from .aides import creer


def verifier(fournisseur, notification):
    """Authentic and fresh for the portal's adapter; returns the one event it carries."""
    fournisseur.verify_notification(notification["entetes"], notification["corps"])
    (ev,) = fournisseur.parse_notification(notification["corps"])
    return ev


def test_chaque_changement_de_statut_est_notifie_et_signe(banque, fournisseur, recepteur):
    paiement = creer(fournisseur)
    banque.payer(paiement.url_redirection, issue="succes")
    recues = recepteur.attendre(2)
    evenements = [verifier(fournisseur, n) for n in recues]
    assert [(e.statut_brut, e.statut) for e in evenements] == [
        ("AUTHORISED", "autorise"),
        ("EXECUTED", "execute"),
    ]
    assert {e.id_fournisseur for e in evenements} == {paiement.id_fournisseur}
    assert len({e.id_evenement for e in evenements}) == 2
    assert all(e.survenu_le is not None for e in evenements)
    premiere = recues[0]
    assert premiere["chemin"] == "/paiements/notifications/sandbox/"
    assert premiere["entetes"]["Content-Type"] == "application/json"
    corps = evenement(premiere)
    assert set(corps) == {"id_evenement", "type", "paiement", "survenu_le"}
    assert corps["type"] == "paiement.statut"
    assert corps["paiement"] == {"id": paiement.id_fournisseur, "statut": "AUTHORISED"}
    # A signature made with another secret is refused.
    autre = banque.fournisseur(secret="un-autre-secret")
    from pecule.fournisseurs.base import SignatureInvalide

    with pytest.raises(SignatureInvalide):
        autre.verify_notification(premiere["entetes"], premiere["corps"])


@pytest.mark.parametrize(
    ("issue", "statuts"),
    [
        ("refus", ["REJECTED"]),
        ("attente_succes", ["PENDING_BANK", "EXECUTED"]),
        ("attente_refus", ["PENDING_BANK", "REJECTED"]),
    ],
)
def test_notifications_de_chaque_issue(banque, fournisseur, recepteur, issue, statuts):
    banque.configurer(pending_delay_seconds=0.3)
    paiement = creer(fournisseur)
    banque.payer(paiement.url_redirection, issue=issue)
    recues = recepteur.attendre(len(statuts), delai=10)
    assert [verifier(fournisseur, n).statut_brut for n in recues] == statuts


def test_annulation_notifiee(banque, fournisseur, recepteur):
    paiement = creer(fournisseur)
    banque.payer(paiement.url_redirection, annuler=True)
    (notification,) = recepteur.attendre(1)
    assert verifier(fournisseur, notification).statut == "annule"


def test_relance_jusqu_a_un_2xx(banque, fournisseur, recepteur):
    recepteur.reponses = [500, 500]
    paiement = creer(fournisseur)
    banque.forcer_statut(paiement.id_fournisseur, "EXECUTED")
    recues = recepteur.attendre(3, delai=10)
    assert [n["code"] for n in recues] == [500, 500, 200]
    # The same event each time, signed again with a fresh timestamp.
    assert len({evenement(n)["id_evenement"] for n in recues}) == 1
    for notification in recues:
        verifier(fournisseur, notification)
    # Exponential back-off: base 0.05 s, then 0.1 s.
    assert recues[1]["recue_le"] - recues[0]["recue_le"] >= 0.04
    assert recues[2]["recue_le"] - recues[1]["recue_le"] >= 0.09
    (journal,) = attendre(
        lambda: [n for n in banque.notifications(paiement.id_fournisseur) if n["etat"] == "livree"]
    )
    assert journal["nombre_tentatives"] == 3
    assert [t["code_http"] for t in journal["tentatives"]] == [500, 500, 200]
    time.sleep(0.3)
    assert len(recepteur.toutes()) == 3  # nothing after the 2xx


def test_abandon_apres_le_nombre_maximal_de_tentatives(banque, fournisseur, recepteur):
    banque.configurer(max_attempts=3, retry_base=0.02)
    recepteur.code_par_defaut = 503
    paiement = creer(fournisseur)
    banque.forcer_statut(paiement.id_fournisseur, "CANCELLED")
    recepteur.attendre(3)
    (journal,) = attendre(
        lambda: [n for n in banque.notifications(paiement.id_fournisseur) if n["etat"] == "echec"]
    )
    assert [t["code_http"] for t in journal["tentatives"]] == [503, 503, 503]
    time.sleep(0.3)
    assert len(recepteur.toutes()) == 3


def test_receveur_injoignable_journalise(banque, fournisseur):
    banque.configurer(notification_url="http://127.0.0.1:9/rien/", max_attempts=2)
    paiement = creer(fournisseur)
    banque.forcer_statut(paiement.id_fournisseur, "EXECUTED")
    (journal,) = attendre(
        lambda: [n for n in banque.notifications(paiement.id_fournisseur) if n["etat"] == "echec"]
    )
    assert all(t["code_http"] is None and t["erreur"] for t in journal["tentatives"])


def test_duplication(banque, fournisseur, recepteur):
    banque.configurer(duplicate=3)
    paiement = creer(fournisseur)
    banque.payer(paiement.url_redirection, issue="refus")
    recues = recepteur.attendre(3)
    assert len({evenement(n)["id_evenement"] for n in recues}) == 1
    assert {verifier(fournisseur, n).statut_brut for n in recues} == {"REJECTED"}
    time.sleep(0.3)
    assert len(recepteur.toutes()) == 3


def test_delai(banque, fournisseur, recepteur):
    banque.configurer(delay_seconds=1.0)
    paiement = creer(fournisseur)
    debut = time.time()
    banque.payer(paiement.url_redirection, issue="refus")
    time.sleep(0.5)
    assert recepteur.toutes() == []
    (notification,) = recepteur.attendre(1, delai=10)
    assert notification["recue_le"] - debut >= 0.95
    verifier(fournisseur, notification)


def test_ordre_inverse(banque, fournisseur, recepteur):
    banque.configurer(reorder=2)
    paiement = creer(fournisseur)
    banque.payer(paiement.url_redirection, issue="succes")  # AUTHORISED then EXECUTED
    recues = recepteur.attendre(2)
    assert [verifier(fournisseur, n).statut_brut for n in recues] == ["EXECUTED", "AUTHORISED"]


def test_ordre_inverse_lot_incomplet_libere_apres_la_fenetre(banque, fournisseur, recepteur):
    banque.configurer(reorder=5, reorder_window_seconds=2.0)
    premier, second = creer(fournisseur), creer(fournisseur)
    banque.payer(premier.url_redirection, issue="refus")
    banque.payer(second.url_redirection, annuler=True)
    time.sleep(0.5)
    assert recepteur.toutes() == []  # held until the window closes
    recues = recepteur.attendre(2, delai=10)
    assert [evenement(n)["paiement"]["id"] for n in recues] == [
        second.id_fournisseur,
        premier.id_fournisseur,
    ]


def test_suppression_des_n_suivantes(banque, fournisseur, recepteur):
    banque.configurer(drop=1)
    paiement = creer(fournisseur)
    banque.payer(paiement.url_redirection, issue="succes")
    (notification,) = recepteur.attendre(1)
    assert verifier(fournisseur, notification).statut_brut == "EXECUTED"
    time.sleep(0.3)
    assert len(recepteur.toutes()) == 1  # AUTHORISED was dropped, never delivered
    journal = banque.notifications(paiement.id_fournisseur)
    assert [(n["statut"], n["etat"]) for n in journal] == [
        ("AUTHORISED", "abandonnee"),
        ("EXECUTED", "livree"),
    ]
    assert banque.config()["drop"] == 0
    # The poller still learns the outcome.
    assert fournisseur.get_payment(paiement.id_fournisseur).statut == "execute"


def test_suppression_de_toutes(banque, fournisseur, recepteur):
    banque.configurer(drop_ratio=1.0)
    paiement = creer(fournisseur)
    banque.payer(paiement.url_redirection, issue="succes")
    time.sleep(0.5)
    assert recepteur.toutes() == []
    assert {n["etat"] for n in banque.notifications()} == {"abandonnee"}
    assert fournisseur.get_payment(paiement.id_fournisseur).statut == "execute"
