"""Transfers written directly in the database for the reconciliation tests (the payment
flow itself is tested in tests/pecule)."""

from __future__ import annotations

import datetime
import itertools
import uuid
from decimal import Decimal

from django.utils import timezone

from comptes.models import Utilisateur
from pecule.models import StatutPaiement, StatutRegie, Virement
from permis.models import PermisDeVisite
from tests.factories import DetenuFactory

_compteur = itertools.count(1)


def proche(nom: str = "DUBOIS") -> Utilisateur:
    n = next(_compteur)
    return Utilisateur.objects.create(
        username=f"proche-rappro-{n}",
        fc_sub=f"sub-rappro-{n}",
        fc_given_name="Angela",
        fc_family_name=nom,
        fc_birthdate=datetime.date(1962, 8, 24),
        email=f"proche{n}@example.fr",
    )


def a_paris(jour: datetime.date, heure: int = 10) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(jour, datetime.time(heure)))


def virement(
    etablissement,
    montant: str | Decimal = "50.00",
    *,
    statut_paiement: str = StatutPaiement.EXECUTE,
    execute_le: datetime.datetime | None = None,
    detenu=None,
) -> Virement:
    """A transfer of a relative (with a permit) to a detainee of `etablissement`."""
    detenu = detenu or DetenuFactory(etablissement=etablissement)
    emetteur = proche()
    permis = PermisDeVisite.objects.create(
        numero=f"PV-R{next(_compteur)}",
        etablissement=etablissement,
        detenu=detenu,
        titulaire_nom=emetteur.fc_family_name,
        titulaire_prenoms=emetteur.fc_given_name,
        titulaire_date_naissance=emetteur.fc_birthdate,
        date_debut=datetime.date(2025, 1, 1),
    )
    execute = statut_paiement == StatutPaiement.EXECUTE
    return Virement.objects.create(
        cle_idempotence=str(uuid.uuid4()),
        proche=emetteur,
        permis=permis,
        detenu=detenu,
        etablissement=etablissement,
        montant=Decimal(montant),
        fournisseur="sandbox",
        id_fournisseur=f"sbx-{uuid.uuid4()}",
        statut_paiement=statut_paiement,
        statut_regie=StatutRegie.A_CREDITER if execute else StatutRegie.AUCUN,
        execute_le=(execute_le or a_paris(datetime.date(2025, 6, 13))) if execute else None,
    )
