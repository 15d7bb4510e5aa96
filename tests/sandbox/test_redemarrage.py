"""A restart of the sandbox bank keeps its payments and the notifications not yet delivered
(they live in its SQLite file)."""

from tests.sandbox_banque import BanqueSandbox, RecepteurNotifications, attendre, evenement

from .aides import creer
from .conftest import ENV_RAPIDE


def test_redemarrage_garde_paiements_et_notifications_en_attente(tmp_path):
    recepteur = RecepteurNotifications(code_par_defaut=503)
    banque = BanqueSandbox(
        tmp_path / "sandbox.sqlite3",
        **{**ENV_RAPIDE, "SANDBOX_RETRY_MAX": "0.3", "SANDBOX_RETRY_TENTATIVES": "100"},
    )
    try:
        banque.demarrer()
        banque.configurer(notification_url=recepteur.url)
        fournisseur = banque.fournisseur()
        execute = creer(fournisseur)
        banque.payer(execute.url_redirection, issue="succes")
        en_cours = creer(fournisseur)
        recepteur.attendre(2)  # the receiver is down: every attempt fails for now

        banque.redemarrer()
        recepteur.code_par_defaut = 200
        fournisseur = banque.fournisseur()
        assert fournisseur.get_payment(execute.id_fournisseur).statut == "execute"
        assert fournisseur.get_payment(en_cours.id_fournisseur).statut == "initie"
        # The notifications queued before the restart are delivered after it.
        attendre(lambda: len([n for n in recepteur.toutes() if n["code"] == 200]) >= 2, delai=10)
        livrees = [n for n in recepteur.toutes() if n["code"] == 200]
        assert sorted(evenement(n)["paiement"]["statut"] for n in livrees) == [
            "AUTHORISED",
            "EXECUTED",
        ]
        for notification in livrees:
            fournisseur.verify_notification(notification["entetes"], notification["corps"])
        # The pages still work for the payment created before the restart.
        assert banque.payer(en_cours.url_redirection, issue="refus")
        assert fournisseur.get_payment(en_cours.id_fournisseur).statut == "refuse"
    finally:
        banque.arreter()
        recepteur.fermer()
