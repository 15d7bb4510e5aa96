"""Checks of `POST /api/paiements`: every field's error is reported, with its name."""

import re
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

MONTANT = re.compile(r"^\d{1,9}(\.\d{1,2})?$")
# SEPA's restricted character set for the end-to-end id (EPC guidance): no "//", no leading or
# trailing "/".
REFERENCE = re.compile(r"^[A-Za-z0-9/?:().,'+ -]{1,35}$")
MONTANT_MAX = Decimal("999999999.99")
COURRIEL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class RequeteInvalide(ValueError):
    def __init__(self, champs: dict[str, str]):
        super().__init__(", ".join(f"{k}: {v}" for k, v in champs.items()))
        self.champs = champs


def _texte(donnees: dict, nom: str, erreurs: dict, maximum: int, requis: bool = True) -> str:
    valeur = donnees.get(nom)
    if valeur is None or valeur == "":
        if requis:
            erreurs[nom] = "obligatoire"
        return ""
    if not isinstance(valeur, str):
        erreurs[nom] = "une chaîne de caractères est attendue"
        return ""
    valeur = valeur.strip()
    if requis and not valeur:
        erreurs[nom] = "obligatoire"
    elif len(valeur) > maximum:
        erreurs[nom] = f"{maximum} caractères au plus ({len(valeur)} reçus)"
    return valeur


def valider_paiement(donnees) -> dict:
    """The cleaned payment fields, or RequeteInvalide listing every wrong field."""
    if not isinstance(donnees, dict):
        raise RequeteInvalide({"": "un objet JSON est attendu"})
    erreurs: dict[str, str] = {}
    propre: dict[str, str] = {}

    montant = donnees.get("montant")
    if montant is None:
        erreurs["montant"] = "obligatoire"
    elif not isinstance(montant, str):
        erreurs["montant"] = 'une chaîne décimale est attendue, par exemple "12.50"'
    elif not MONTANT.match(montant):
        erreurs["montant"] = 'format attendu : chiffres, point, deux décimales au plus ("12.50")'
    else:
        try:
            valeur = Decimal(montant)
        except InvalidOperation:  # pragma: no cover (the pattern guards it)
            valeur = Decimal(0)
        if not Decimal("0.01") <= valeur <= MONTANT_MAX:
            erreurs["montant"] = f"doit être entre 0.01 et {MONTANT_MAX}"
        propre["montant"] = f"{valeur:.2f}"

    propre["creancier_nom"] = _texte(donnees, "creancier_nom", erreurs, 140)
    iban = _texte(donnees, "creancier_iban", erreurs, 42)
    if iban:
        try:
            propre["creancier_iban"] = IBAN(iban).compact
        except SchwiftyException as exc:
            erreurs["creancier_iban"] = f"IBAN invalide : {exc}"
    reference = _texte(donnees, "reference_bout_en_bout", erreurs, 35)
    if (
        reference
        and "reference_bout_en_bout" not in erreurs
        and (
            not REFERENCE.match(reference)
            or reference.startswith("/")
            or reference.endswith("/")
            or "//" in reference
        )
    ):
        erreurs["reference_bout_en_bout"] = (
            "caractères autorisés : lettres sans accent, chiffres, espace et / - ? : ( ) . , ' +"
            " (pas de « // », ni « / » au début ou à la fin)"
        )
    propre["reference_bout_en_bout"] = reference
    propre["libelle"] = _texte(donnees, "libelle", erreurs, 140)

    payeur = donnees.get("payeur")
    if not isinstance(payeur, dict):
        erreurs["payeur"] = "un objet {nom, email} est attendu"
        propre["payeur_nom"] = propre["payeur_email"] = ""
    else:
        sous_erreurs: dict[str, str] = {}
        propre["payeur_nom"] = _texte(payeur, "nom", sous_erreurs, 140)
        propre["payeur_email"] = _texte(payeur, "email", sous_erreurs, 254, requis=False)
        email = propre["payeur_email"]
        if email and "email" not in sous_erreurs and not COURRIEL.match(email):
            sous_erreurs["email"] = "adresse électronique invalide"
        erreurs.update({f"payeur.{cle}": message for cle, message in sous_erreurs.items()})

    url_retour = _texte(donnees, "url_retour", erreurs, 2000)
    if url_retour and "url_retour" not in erreurs:
        morceaux = urlsplit(url_retour)
        if morceaux.scheme not in ("http", "https") or not morceaux.netloc:
            erreurs["url_retour"] = "une adresse absolue http:// ou https:// est attendue"
    propre["url_retour"] = url_retour
    propre["cle_idempotence"] = _texte(donnees, "cle_idempotence", erreurs, 255)

    if erreurs:
        raise RequeteInvalide(erreurs)
    return propre
