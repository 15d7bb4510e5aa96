"""Reads of the permis app: a relative's permits, the permit that allows a transfer,
what a staff member or a token may see."""

import datetime

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from regie.selectors import etablissements_geres

from .identite import titulaire_concorde
from .models import JetonSystemeInformation, PermisDeVisite, PermisEnregistre


def permis_du_proche(proche) -> QuerySet[PermisEnregistre]:
    """The permits the relative registered, newest first, with their permit, detainee and
    establishment (show each with `permis.etat(jour)`)."""
    return PermisEnregistre.objects.filter(proche=proche).select_related(
        "permis__detenu", "permis__etablissement"
    )


def permis_enregistre_du_proche_ou_404(proche, pk) -> PermisEnregistre:
    """One of the relative's registrations; any other id, or one of another relative,
    is a 404 (never a 403 that would confirm it exists)."""
    return get_object_or_404(permis_du_proche(proche), pk=pk)


def permis_valide_pour_virement(
    proche, detenu, jour: datetime.date, *, verrouiller: bool = False
) -> PermisDeVisite | None:
    """The permit that allows `proche` to send money to `detenu` on `jour`, or None.

    Registered by the relative, valid that day (`PermisQuerySet.valides`: active, within
    its dates, detainee held in the issuing establishment and not released) and issued
    to the relative's current FranceConnect identity. Call it when the transfer is
    initiated and again when it is credited; `verrouiller=True` locks the permit row
    (inside a transaction) so that a concurrent suspension or withdrawal waits.
    """
    if (
        proche is None
        or not getattr(proche, "is_authenticated", False)
        or not proche.is_active
        or not getattr(proche, "fc_sub", None)
    ):
        return None
    candidats = (
        PermisDeVisite.objects.valides(jour)
        .filter(detenu=detenu, enregistrements__proche=proche)
        .select_related("detenu", "etablissement")
        .order_by("-date_debut", "-pk")
    )
    if verrouiller:
        candidats = candidats.select_for_update(of=("self",))
    for permis in candidats:
        if titulaire_concorde(permis, proche):
            return permis
    return None


def permis_geres(utilisateur) -> QuerySet[PermisDeVisite]:
    """The permits of the establishments a staff member is attached to."""
    if utilisateur.is_superuser and utilisateur.is_active:
        return PermisDeVisite.objects.all()
    return PermisDeVisite.objects.filter(etablissement__in=etablissements_geres(utilisateur))


def permis_du_jeton(jeton: JetonSystemeInformation) -> QuerySet[PermisDeVisite]:
    """The permits an information system's token may read and change: its establishment's."""
    return PermisDeVisite.objects.filter(etablissement_id=jeton.etablissement_id).select_related(
        "detenu", "etablissement"
    )


def jeton_actif(empreinte: str) -> JetonSystemeInformation | None:
    """The unrevoked token with this SHA-256 hash, or None."""
    return (
        JetonSystemeInformation.objects.select_related("etablissement")
        .filter(cle_hash=empreinte, revoque_le__isnull=True)
        .first()
    )
