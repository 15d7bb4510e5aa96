"""Precise exceptions, each with a French message for people and a stable `code` for
machines (the API returns both)."""

import datetime

from socle.erreurs import ErreurMetier


class PermisError(ErreurMetier):
    code = "permis"


class PermisRefuse(PermisError):
    """« Ajouter un permis de visite » refused; `message` is safe to show the relative."""

    code = "permis_refuse"


class TropDeTentatives(PermisRefuse):
    """Too many failed attempts; `attente` is how long until the next one is allowed."""

    code = "trop_de_tentatives"

    def __init__(self, message: str, *, attente: datetime.timedelta):
        super().__init__(message)
        self.attente = attente


class PermisExisteDeja(PermisError):
    """Another permit of the establishment already has this number (HTTP 409)."""

    code = "numero_deja_utilise"


class TransitionInterdite(PermisError):
    """The permit's status forbids this change, e.g. a withdrawn permit is final (HTTP 409)."""

    code = "transition_interdite"


class DetenuLibere(PermisError):
    """The detainee has been released: the information system cannot change them (409)."""

    code = "detenu_libere"


class TransfertASignaler(PermisError):
    """The person is held in another establishment: the régie must transfer the account
    first; the report was recorded (HTTP 409)."""

    code = "transfert_a_effectuer"
