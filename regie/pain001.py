"""The batch file of outgoing transfers: ISO 20022 pain.001 (CustomerCreditTransferInitiation),
version .03 (what French banks and the Treasury accept) or .09, written with `sepaxml`
(maintained; amounts in integer cents, SEPA character set), then given our own message id
and creation time and validated against the official XSD shipped in `schemas/iso20022/`.
The régie is the debtor; each order is one transaction whose end-to-end id is the order's
reference."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal

from django.utils import timezone
from lxml import etree
from schwifty import IBAN
from sepaxml import SepaTransfer

from socle import iso20022


class FichierInvalide(RuntimeError):
    """The file we wrote does not validate: a bug, never sent to a bank."""


def _centimes(montant: Decimal) -> int:
    centimes = montant * 100
    if centimes != centimes.to_integral_value():
        raise ValueError(f"{montant} has more than two decimals")
    return int(centimes)


def ecrire_pain001(
    *,
    version: str,
    reference: str,
    cree_le: datetime.datetime,
    debiteur,
    date_execution: datetime.date,
    ordres: Iterable,
) -> bytes:
    """`debiteur` has `nom`, `iban`; each order `reference`, `montant`, `libelle`,
    `beneficiaire_nom`, `beneficiaire_iban`, `beneficiaire_bic`."""
    configuration = {
        "name": debiteur.nom,
        "IBAN": debiteur.iban,
        "batch": True,
        "currency": "EUR",
    }
    bic = IBAN(debiteur.iban).bic
    if bic is not None:
        configuration["BIC"] = str(bic)
    fichier = SepaTransfer(configuration, schema=version, clean=True)
    for ordre in ordres:
        paiement = {
            "name": ordre.beneficiaire_nom,
            "IBAN": ordre.beneficiaire_iban,
            "amount": _centimes(ordre.montant),
            "execution_date": date_execution,
            "description": ordre.libelle,
            "endtoend_id": ordre.reference,
        }
        if ordre.beneficiaire_bic:
            paiement["BIC"] = ordre.beneficiaire_bic
        fichier.add_payment(paiement)
    brut = fichier.export(validate=False)
    racine = etree.fromstring(brut, iso20022.analyseur())
    ns = {"p": iso20022.PREFIXE_ESPACE + version}
    entete = racine.find("p:CstmrCdtTrfInitn/p:GrpHdr", ns)
    entete.find("p:MsgId", ns).text = reference
    entete.find("p:CreDtTm", ns).text = (
        timezone.localtime(cree_le).replace(microsecond=0).isoformat()
    )
    erreurs = iso20022.erreurs_de_schema(racine, version)
    if erreurs:
        raise FichierInvalide(f"pain.001 not valid against {version}: {'; '.join(erreurs)}")
    return etree.tostring(racine, xml_declaration=True, encoding="UTF-8", pretty_print=True)
