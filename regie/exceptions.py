"""The régie's refusals: `socle.erreurs.ErreurMetier` subclasses, each with a clear French
message for people and a precise class and `code` for machines."""

from socle.erreurs import ErreurMetier


class MontantInvalide(ErreurMetier, ValueError):
    code = "montant_invalide"


class SoldeInsuffisant(ErreurMetier):
    code = "solde_insuffisant"


class EcritureDejaPassee(ErreurMetier):
    """The source was already booked: nothing was written. `details["ecriture"]` is it."""

    code = "ecriture_deja_passee"


class OperationInterdite(ErreurMetier):
    """The state of the account or request forbids this movement."""

    code = "operation_interdite"


class DroitsInsuffisants(ErreurMetier, PermissionError):
    """The author lacks the role, or is not attached to the establishment."""

    code = "droits_insuffisants"


class DecisionDejaPrise(ErreurMetier):
    code = "decision_deja_prise"


class PlafondDepasse(ErreurMetier):
    code = "plafond_depasse"


class SubsidesInterdits(ErreurMetier):
    code = "subsides_interdits"


class CoordonneesBancairesInvalides(ErreurMetier, ValueError):
    """A beneficiary's name, IBAN or BIC is missing or wrong (`details["champ"]`)."""

    code = "coordonnees_bancaires_invalides"


class SecondRegardRequis(DroitsInsuffisants):
    """Four eyes: the person who prepared or proposed cannot validate or decide."""

    code = "second_regard_requis"
