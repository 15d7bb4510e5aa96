"""The relative on the bank pages (plain HTTP, like a browser without JavaScript), each
outcome seen through the adapter's get_payment, and the redirection back to the portal with
no outcome in the URL."""

import requests

from tests.sandbox_banque import attendre

from .aides import URL_RETOUR, creer


def statut(fournisseur, paiement):
    return fournisseur.get_payment(paiement.id_fournisseur).statut


def test_succes_immediat(banque, fournisseur):
    paiement = creer(fournisseur)
    retour = banque.payer(paiement.url_redirection, issue="succes")
    assert retour == URL_RETOUR  # exactly the portal's URL: no status in it
    etat = fournisseur.get_payment(paiement.id_fournisseur)
    assert (etat.statut, etat.statut_brut) == ("execute", "EXECUTED")
    detail = banque.paiement(paiement.id_fournisseur)
    assert [h["vers"] for h in detail["historique"]] == ["CREATED", "AUTHORISED", "EXECUTED"]
    assert detail["banque"] == "banque-exemple"
    assert detail["debiteur_iban"].startswith("FR76")


def test_en_attente_puis_succes(banque, fournisseur):
    banque.configurer(pending_delay_seconds=1.5)
    paiement = creer(fournisseur)
    assert banque.payer(paiement.url_redirection, issue="attente_succes") == URL_RETOUR
    etat = fournisseur.get_payment(paiement.id_fournisseur)
    assert (etat.statut, etat.statut_brut) == ("autorise", "PENDING_BANK")
    attendre(lambda: statut(fournisseur, paiement) == "execute", delai=10)


def test_en_attente_puis_refus(banque, fournisseur):
    banque.configurer(pending_delay_seconds=1.5)
    paiement = creer(fournisseur)
    assert banque.payer(paiement.url_redirection, issue="attente_refus") == URL_RETOUR
    assert statut(fournisseur, paiement) == "autorise"
    attendre(lambda: statut(fournisseur, paiement) == "refuse", delai=10)
    etat = fournisseur.get_payment(paiement.id_fournisseur)
    assert etat.statut_brut == "REJECTED"
    assert etat.motif


def test_refus(banque, fournisseur):
    paiement = creer(fournisseur)
    assert banque.payer(paiement.url_redirection, issue="refus") == URL_RETOUR
    etat = fournisseur.get_payment(paiement.id_fournisseur)
    assert (etat.statut, etat.statut_brut) == ("refuse", "REJECTED")
    assert "provision insuffisante" in etat.motif


def test_annulation_dans_la_fenetre_de_la_banque(banque, fournisseur):
    paiement = creer(fournisseur)
    assert banque.payer(paiement.url_redirection, annuler=True) == URL_RETOUR
    etat = fournisseur.get_payment(paiement.id_fournisseur)
    assert (etat.statut, etat.statut_brut) == ("annule", "CANCELLED")


def test_annulation_sur_la_page_de_choix_de_la_banque(banque, fournisseur):
    paiement = creer(fournisseur)
    assert banque.annuler_depuis_selection(paiement.url_redirection) == URL_RETOUR
    assert statut(fournisseur, paiement) == "annule"


def test_abandon_puis_expiration(banque, fournisseur, recepteur):
    banque.configurer(expiration_seconds=2.0)
    paiement = creer(fournisseur)
    assert banque.payer(paiement.url_redirection, issue="abandon") is None  # no redirect
    assert statut(fournisseur, paiement) == "initie"
    # The clock thread expires it and notifies, without anyone asking.
    (notification,) = recepteur.attendre(1, delai=10)
    assert b'"EXPIRED"' in notification["corps"]
    etat = fournisseur.get_payment(paiement.id_fournisseur)
    assert (etat.statut, etat.statut_brut) == ("expire", "EXPIRED")


def test_les_banques_et_leurs_identifiants(banque, fournisseur):
    paiement = creer(fournisseur)
    page = requests.get(paiement.url_redirection, timeout=5)
    assert page.status_code == 200
    assert "Choisissez votre banque" in page.text
    for code, nom in [
        ("banque-exemple", "Banque Exemple"),
        ("credit-fictif", "Crédit Fictif"),
        ("caisse-epargne-demo", "Caisse d&#39;Épargne de Démonstration"),
        ("neobanque-test", "Néobanque Test"),
    ]:
        assert f'id="banque-{code}"' in page.text
        assert nom in page.text
    assert "12,50\u00a0€" in page.text
    assert "Content-Security-Policy" in page.headers


def test_la_fenetre_de_la_banque(banque, fournisseur):
    paiement = creer(fournisseur)
    with requests.Session() as navigateur:
        connexion = navigateur.get(f"{paiement.url_redirection}/banque/credit-fictif", timeout=5)
        for element in ('id="identifiant"', 'id="code"', 'id="bouton-connexion"'):
            assert element in connexion.text
        vide = navigateur.post(
            f"{paiement.url_redirection}/banque/credit-fictif",
            data={"identifiant": "", "code": ""},
            allow_redirects=False,
            timeout=5,
        )
        assert vide.status_code == 400
        assert 'id="erreur"' in vide.text
        # The approval page needs the login first.
        avant = navigateur.get(
            f"{paiement.url_redirection}/banque/credit-fictif/validation",
            allow_redirects=False,
            timeout=5,
        )
        assert avant.status_code == 303
        navigateur.post(
            f"{paiement.url_redirection}/banque/credit-fictif",
            data={"identifiant": "quelquun", "code": "0000"},
            timeout=5,
        )
        page = navigateur.get(
            f"{paiement.url_redirection}/banque/credit-fictif/validation", timeout=5
        )
    assert page.status_code == 200
    for element in (
        'id="bouton-valider"',
        'id="bouton-annuler"',
        'name="issue"',
        'value="attente_succes"',
        'value="attente_refus"',
        'value="refus"',
        'value="abandon"',
        "Valider le virement",
        "Annuler",
        "ECROU 12345 DUPONT Jean PEC-ABCD-EFGH",
        "Régie du centre pénitentiaire de Test",
    ):
        assert element in page.text
    # The creditor's IBAN is masked: country, check digits and the last four only.
    assert "FR76 •••• •••• •••• •••• •••0 189" in page.text
    assert "FR7630006000011234567890189" not in page.text


def test_un_paiement_traite_ne_se_valide_pas_deux_fois(banque, fournisseur):
    paiement = creer(fournisseur)
    banque.payer(paiement.url_redirection, issue="refus")
    page = requests.get(paiement.url_redirection, timeout=5)
    assert page.status_code == 200
    assert 'data-statut="REJECTED"' in page.text
    assert f'href="{URL_RETOUR}"' in page.text
    seconde = requests.post(
        f"{paiement.url_redirection}/banque/banque-exemple/validation",
        data={"action": "valider", "issue": "succes"},
        allow_redirects=False,
        timeout=5,
    )
    assert seconde.status_code == 409
    assert statut(fournisseur, paiement) == "refuse"


def test_banque_inconnue_et_paiement_inconnu(banque, fournisseur):
    paiement = creer(fournisseur)
    assert requests.get(f"{paiement.url_redirection}/banque/inconnue", timeout=5).status_code == 404
    assert requests.get(f"{banque.url}/paiement/pay_inconnu", timeout=5).status_code == 404


def test_transition_forcee(banque, fournisseur):
    paiement = creer(fournisseur)
    banque.payer(paiement.url_redirection, issue="refus")
    # A success after a failure (the portal must flag it, not apply it).
    banque.forcer_statut(paiement.id_fournisseur, "EXECUTED")
    assert statut(fournisseur, paiement) == "execute"
