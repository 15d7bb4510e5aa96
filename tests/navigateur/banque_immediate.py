"""A bank that approves at once, for the browser tests of the portal's own pages: the
payment is executed as soon as it is created, and « Réaliser le virement » goes straight
back to the portal's return page. The bank's own pages are played against the real
sandbox bank in tests/bout_en_bout."""

from pecule.fournisseurs.base import PaiementCree
from tests.pecule.fournisseur_memoire import FournisseurMemoire


class BanqueImmediate(FournisseurMemoire):
    def create_payment(self, *, url_retour, **arguments):
        paiement = super().create_payment(url_retour=url_retour, **arguments)
        self.paiements[paiement.id_fournisseur]["statut"] = "execute"
        return PaiementCree(
            id_fournisseur=paiement.id_fournisseur,
            url_redirection=url_retour,
            expire_le=paiement.expire_le,
        )
