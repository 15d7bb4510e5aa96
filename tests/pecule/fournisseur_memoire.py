"""An in-process provider for the services' unit tests: it keeps payments in memory and
lets the test set their status. The real provider contract is exercised against the
sandbox bank process in tests/sandbox and the end-to-end tests."""

import datetime
import itertools

from django.utils import timezone

from pecule.fournisseurs.base import (
    ErreurFournisseur,
    EtatPaiement,
    FournisseurPaiement,
    PaiementCree,
)

_compteur = itertools.count(1)


class FournisseurMemoire(FournisseurPaiement):
    paiements: dict = {}
    par_cle: dict = {}
    appels_creation = 0
    en_panne = False  # create_payment raises a transient ErreurFournisseur

    def create_payment(
        self,
        *,
        montant,
        creancier_nom,
        creancier_iban,
        reference_bout_en_bout,
        libelle,
        payeur,
        url_retour,
        cle_idempotence,
    ):
        type(self).appels_creation += 1
        if self.en_panne:
            raise ErreurFournisseur("prestataire injoignable (test)", transitoire=True)
        if cle_idempotence not in self.par_cle:
            identifiant = f"mem-{next(_compteur)}"
            self.paiements[identifiant] = {
                "statut": "initie",
                "montant": montant,
                "libelle": libelle,
                "reference": reference_bout_en_bout,
                "iban": creancier_iban,
            }
            self.par_cle[cle_idempotence] = identifiant
        identifiant = self.par_cle[cle_idempotence]
        return PaiementCree(
            id_fournisseur=identifiant,
            url_redirection=f"https://banque.invalid/{identifiant}",
            expire_le=timezone.now() + datetime.timedelta(minutes=15),
        )

    def get_payment(self, id_fournisseur):
        statut = self.paiements[id_fournisseur]["statut"]
        return EtatPaiement(statut=statut, statut_brut=statut.upper())

    def verify_notification(self, entetes, corps):
        raise NotImplementedError

    def parse_notification(self, corps):
        raise NotImplementedError

    @classmethod
    def fixer(cls, id_fournisseur: str, statut: str) -> None:
        cls.paiements[id_fournisseur]["statut"] = statut

    @classmethod
    def vider(cls) -> None:
        cls.paiements.clear()
        cls.par_cle.clear()
        cls.appels_creation = 0
        cls.en_panne = False
