"""Shared helpers of the sandbox bank tests."""

import uuid
from decimal import Decimal

from pecule.fournisseurs.base import Payeur

IBAN_REGIE = "FR7630006000011234567890189"
URL_RETOUR = "http://127.0.0.1:8000/virements/retour/42/"


def creer(fournisseur, **champs):
    """A payment at the sandbox, with sensible defaults and a fresh idempotency key."""
    valeurs = {
        "montant": Decimal("12.50"),
        "creancier_nom": "Régie du centre pénitentiaire de Test",
        "creancier_iban": IBAN_REGIE,
        "reference_bout_en_bout": "PEC-ABCD-EFGH",
        "libelle": "ECROU 12345 DUPONT Jean PEC-ABCD-EFGH",
        "payeur": Payeur(nom="Angela Claire Louise DUBOIS", email="angela@example.fr"),
        "url_retour": URL_RETOUR,
        "cle_idempotence": uuid.uuid4().hex,
    }
    valeurs.update(champs)
    return fournisseur.create_payment(**valeurs)
