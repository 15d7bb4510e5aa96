"""The payment initiation provider interface (03-paiements.md, "The provider adapter").

One implementation per provider. The portal never trusts the browser's return: it asks
`get_payment`, and learns outcomes from signed notifications (`verify_notification`,
`parse_notification`). Statuses are normalised to `StatutPaiement`, defined here once
(the transfers' `statut_paiement` field uses it too).
"""

import abc
import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import models


class StatutPaiement(models.TextChoices):
    """A payment's status, normalised whatever the provider."""

    INITIE = "initie", "Initié"
    AUTORISE = "autorise", "Autorisé"
    EXECUTE = "execute", "Exécuté"
    REFUSE = "refuse", "Refusé"
    ANNULE = "annule", "Annulé"
    EXPIRE = "expire", "Expiré"


class ErreurFournisseur(Exception):
    """The provider could not be reached or answered an error. `transitoire`: worth
    retrying (network, 5xx, 429)."""

    def __init__(self, message: str, *, transitoire: bool = True):
        super().__init__(message)
        self.transitoire = transitoire


class SignatureInvalide(Exception):
    """A notification whose signature is missing, wrong or stale. `motif` is recorded."""

    def __init__(self, motif: str):
        super().__init__(motif)
        self.motif = motif


@dataclass(frozen=True, slots=True)
class Payeur:
    nom: str
    email: str = ""


@dataclass(frozen=True, slots=True)
class PaiementCree:
    id_fournisseur: str
    url_redirection: str
    expire_le: datetime.datetime


@dataclass(frozen=True, slots=True)
class EtatPaiement:
    statut: str  # a StatutPaiement
    statut_brut: str
    motif: str = ""
    iban_payeur: str = ""  # the payer's account, when the provider reports it


@dataclass(frozen=True, slots=True)
class EvenementFournisseur:
    id_evenement: str
    id_fournisseur: str  # the provider's payment id
    statut: str  # a StatutPaiement (what the event announces; re-checked by get_payment)
    statut_brut: str
    survenu_le: datetime.datetime | None = None


class FournisseurPaiement(abc.ABC):
    """A payment initiation provider."""

    def __init__(self, *, nom: str, **options):
        self.nom = nom

    @abc.abstractmethod
    def create_payment(
        self,
        *,
        montant: Decimal,
        creancier_nom: str,
        creancier_iban: str,
        reference_bout_en_bout: str,
        libelle: str,
        payeur: Payeur,
        url_retour: str,
        cle_idempotence: str,
    ) -> PaiementCree:
        """Create the payment; the same `cle_idempotence` returns the same payment."""

    @abc.abstractmethod
    def get_payment(self, id_fournisseur: str) -> EtatPaiement:
        """The payment's current status, normalised."""

    @abc.abstractmethod
    def verify_notification(self, entetes: dict[str, str], corps: bytes) -> None:
        """Raise SignatureInvalide unless the notification is authentic and fresh."""

    @abc.abstractmethod
    def parse_notification(self, corps: bytes) -> list[EvenementFournisseur]:
        """The events a (verified) notification carries."""
