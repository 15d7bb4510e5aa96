"""Precise exceptions for code, each with a clear French message for people.

`str(exc)` is the French message shown in the admin; `exc.code` is stable for machines.
"""


class RegieError(Exception):
    code = "regie"

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.message = message
        self.details = details


class MontantInvalide(RegieError, ValueError):
    code = "montant_invalide"


class SoldeInsuffisant(RegieError):
    code = "solde_insuffisant"


class EcritureDejaPassee(RegieError):
    """The source was already booked: nothing was written. `details["ecriture"]` is it."""

    code = "ecriture_deja_passee"


class OperationInterdite(RegieError):
    """The state of the account or request forbids this movement."""

    code = "operation_interdite"


class DroitsInsuffisants(RegieError, PermissionError):
    """The author lacks the role, or is not attached to the establishment."""

    code = "droits_insuffisants"


class DecisionDejaPrise(RegieError):
    code = "decision_deja_prise"


class PlafondDepasse(RegieError):
    code = "plafond_depasse"


class SubsidesInterdits(RegieError):
    code = "subsides_interdits"
