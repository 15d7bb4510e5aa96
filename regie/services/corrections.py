"""Corrections: refunds of a debit, and reversals (an entry is never changed).

Spec 01 section 9: every movement has an exact inverse.
- The lines that did not come from the répartition are mirrored (same part, same
  counterpart, same D.422 block, same livret A flag, opposite sign).
- The lines that came from the répartition (a subject receipt; the excess brought back
  from a permission; the excess of a D.422 subsidy; a split D.422 remainder) are taken
  back as a **negative receipt in the month of the original**: with `T` the month's
  current total and `m` the subject amount, `P1(T) − P1(T − m)` from part 1,
  `PL(T) − PL(T − m)` from the pécule, the rest from the part disponible, and the month's
  counter goes down by `m`. Never is more taken back from a part than the month's
  répartitions put into it (ceiling of D. 332-12, regimes without pécule, JAP
  prescriptions): the difference is taken from the other parts (docs/regles-metier.md).
- If a part no longer holds what the reversal takes back, the reversal is refused with
  the amounts; nothing is written.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum

from socle.dates import aujourdhui
from socle.formats import euros

from ..exceptions import EcritureDejaPassee, OperationInterdite, SoldeInsuffisant
from ..models import (
    NOMS_PARTIES,
    PARTIES_DU_COMPTE,
    ZERO,
    ActionD422,
    AutorisationD422,
    CompteNominatif,
    CompteurMensuel,
    Ecriture,
    EvenementD422,
    LigneEcriture,
    NatureEcriture,
    PaiementSaisie,
    Partie,
    PermissionSortie,
    StatutD422,
    StatutOrdre,
    StatutPermission,
    StatutSaisie,
)
from ..repartition import prelevements_cumules
from .ecritures import (
    NATURES_CONTREPASSABLES,
    NATURES_REMBOURSABLES,
    Ligne,
    _bloque_pour,
    _passer,
    _verrouiller,
    montant_valide,
    verifier_droits,
)
from .ordres import ordre_en_cours_pour


def _ordre_qui_empeche(ecriture: Ecriture, *, argent_parti_interdit: bool) -> None:
    """An entry paid by a payment order on its way cannot be corrected: the order is
    refused (or rejected by the bank), which puts the money back. Once the bank paid,
    the money is gone: no reversal (a refund records money that came back)."""
    ordre = ordre_en_cours_pour(ecriture)
    if ordre is None:
        return
    if ordre.statut == StatutOrdre.EXECUTE:
        if argent_parti_interdit:
            raise OperationInterdite(
                f"La banque a versé cette somme (ordre {ordre.reference}, le "
                f"{ordre.execute_le:%d/%m/%Y}) : l'écriture ne peut plus être contre-passée. "
                "Si l'argent revient, enregistrez-le comme remboursement."
            )
        return
    raise OperationInterdite(
        f"Cette écriture est payée par l'ordre de virement {ordre.reference} "
        f"({ordre.get_statut_display().lower()}) : pour remettre la somme en compte, "
        "l'ordre doit être refusé, ou rejeté par la banque."
    )


# --- Which lines of an entry came from the répartition ----------------------------------


def lignes_reparties(
    ecriture: Ecriture, lignes: list[LigneEcriture]
) -> tuple[list[LigneEcriture], list[LigneEcriture]]:
    """(lines computed by the répartition, the other lines) of an entry.

    Lines booked since migration 0006 carry `issue_repartition`. Before it, the services
    wrote an entry's split shares as every line of a part that is not a blocked D.422
    line, except the first part disponible line of a permission return (what was handed
    out, back unsplit): that is how the former lines are read.
    """
    if not ecriture.montant_soumis:
        return [], lignes
    if any(ligne.issue_repartition for ligne in lignes):
        reparties = [ligne for ligne in lignes if ligne.issue_repartition]
    else:
        reparties = [
            ligne
            for ligne in lignes
            if ligne.partie != Partie.CONTREPARTIE and ligne.bloque_d422_id is None
        ]
        if ecriture.nature == NatureEcriture.PERMISSION_RETOUR:
            restitution = min(
                (ligne for ligne in reparties if ligne.partie == Partie.PART_DISPONIBLE),
                key=lambda ligne: ligne.pk,
            )
            reparties.remove(restitution)
    return reparties, [ligne for ligne in lignes if ligne not in reparties]


def apports_du_mois(compte: CompteNominatif, mois: datetime.date) -> dict[str, Decimal]:
    """What the répartitions of a month (and their reversals) put into each part."""
    apports: dict[str, Decimal] = defaultdict(lambda: ZERO)
    ecritures = (
        Ecriture.objects.filter(compte=compte, mois_repartition=mois)
        .exclude(montant_soumis=0)
        .prefetch_related("lignes")
    )
    for ecriture in ecritures:
        reparties, _autres = lignes_reparties(ecriture, list(ecriture.lignes.all()))
        for ligne in reparties:
            apports[ligne.partie] += ligne.montant
    return apports


def reprise_repartition(
    compte: CompteNominatif, montant: Decimal, mois: datetime.date
) -> dict[str, Decimal]:
    """What a negative receipt of `montant` in `mois` takes back from each part (section 9)."""
    compteur = CompteurMensuel.objects.filter(
        compte=compte, annee=mois.year, mois=mois.month
    ).first()
    total = compteur.cumul if compteur else ZERO
    if total < montant:
        raise OperationInterdite(
            f"Le cumul du mois {mois:%m/%Y} ({euros(total)}) est inférieur à la somme à "
            f"reprendre ({euros(montant)}) : contrôlez le compte."
        )
    p1_total, pl_total = prelevements_cumules(total, mois.month)
    p1_avant, pl_avant = prelevements_cumules(total - montant, mois.month)
    du_mois = apports_du_mois(compte, mois)
    apports = {partie: max(du_mois[partie], ZERO) for partie in PARTIES_DU_COMPTE}
    reprise = {
        Partie.PARTIES_CIVILES: min(p1_total - p1_avant, apports[Partie.PARTIES_CIVILES]),
        Partie.PECULE_LIBERATION: min(pl_total - pl_avant, apports[Partie.PECULE_LIBERATION]),
    }
    reprise[Partie.PART_DISPONIBLE] = (
        montant - reprise[Partie.PARTIES_CIVILES] - reprise[Partie.PECULE_LIBERATION]
    )
    excedent = reprise[Partie.PART_DISPONIBLE] - apports[Partie.PART_DISPONIBLE]
    if excedent > 0:
        # The part disponible would give back more than the month put into it: the
        # difference comes from the other parts, within what the month put into them.
        reprise[Partie.PART_DISPONIBLE] -= excedent
        for partie in (Partie.PARTIES_CIVILES, Partie.PECULE_LIBERATION):
            complement = min(excedent, apports[partie] - reprise[partie])
            reprise[partie] += complement
            excedent -= complement
    return reprise


# --- The parts must still hold what a correction takes back ----------------------------


def _verifier_reprise(compte: CompteNominatif, lignes: list[Ligne], ecriture: Ecriture) -> None:
    """Refuse, with the amounts, a correction that takes from a part more than it holds."""
    variation = defaultdict(lambda: ZERO)
    bloque = ZERO
    par_autorisation: dict[int, Decimal] = defaultdict(lambda: ZERO)
    autorisations = {}
    for ligne in lignes:
        if ligne.partie == Partie.CONTREPARTIE:
            continue
        variation[ligne.partie] += ligne.montant
        if ligne.bloque is not None:
            bloque += ligne.montant
            par_autorisation[ligne.bloque.pk] += ligne.montant
            autorisations[ligne.bloque.pk] = ligne.bloque
    debut = f"La correction de l'écriture n° {ecriture.pk}"
    for autorisation_pk, montant in par_autorisation.items():
        reste = _bloque_pour(autorisation_pk)
        if reste + montant < 0:
            raise SoldeInsuffisant(
                f"{debut} reprend {euros(-montant)} bloqués pour l'autorisation D.422 "
                f"n° {autorisation_pk}, qui n'en bloque plus que {euros(reste)}.",
                partie=Partie.PART_DISPONIBLE,
                disponible=reste,
                a_reprendre=-montant,
            )
    libre = compte.part_disponible_libre
    variation_libre = variation[Partie.PART_DISPONIBLE] - bloque
    if libre + variation_libre < 0:
        raise SoldeInsuffisant(
            f"{debut} reprend {euros(-variation_libre)} sur la part disponible non bloquée, "
            f"qui ne contient plus que {euros(libre)}. Enregistrez une correction motivée.",
            partie=Partie.PART_DISPONIBLE,
            disponible=libre,
            a_reprendre=-variation_libre,
        )
    for partie in (Partie.PARTIES_CIVILES, Partie.PECULE_LIBERATION):
        solde = getattr(compte, partie)
        if solde + variation[partie] < 0:
            raise SoldeInsuffisant(
                f"{debut} reprend {euros(-variation[partie])} sur "
                f"{NOMS_PARTIES[partie].en_phrase}, qui ne contient plus que {euros(solde)}. "
                "Enregistrez une correction motivée.",
                partie=partie,
                disponible=solde,
                a_reprendre=-variation[partie],
            )


def _reprendre_autorisation(autorisation: AutorisationD422, auteur, details: str) -> None:
    """Money comes back blocked for an authorisation (a reversed expense or remainder, a
    refunded expense): a closed or renounced authorisation is in progress again, so that
    the money can be spent or the authorisation closed again. Logged."""
    autorisation = AutorisationD422.objects.select_for_update(of=("self",)).get(pk=autorisation.pk)
    if autorisation.statut in (StatutD422.CLOTUREE, StatutD422.RENONCEE):
        autorisation.statut = StatutD422.AUTORISEE
        autorisation.save(update_fields=["statut"])
        EvenementD422.objects.create(
            autorisation=autorisation, auteur=auteur, action=ActionD422.REOUVERTURE, details=details
        )


# --- Refunds --------------------------------------------------------------------------


@transaction.atomic
def rembourser(
    *,
    ecriture: Ecriture,
    montant,
    source: str,
    motif: str,
    auteur=None,
    auteur_systeme: str = "",
    date_operation: datetime.date | None = None,
) -> Ecriture:
    """Refund (cancelled canteen order, a victim's overpayment sent back, a supplier's
    refund of a D.422 expense…) back to the part the debit came from, with its block."""
    montant = montant_valide(montant)
    compte = _verrouiller(ecriture.compte_id)
    verifier_droits(
        auteur, compte.detenu.etablissement, "regie.passer_ecriture", "passer une écriture"
    )
    ecriture = Ecriture.objects.get(pk=ecriture.pk)
    if ecriture.nature not in NATURES_REMBOURSABLES:
        raise OperationInterdite(
            f"Une écriture « {ecriture.get_nature_display()} » ne peut pas être remboursée."
        )
    if Ecriture.objects.filter(contrepasse=ecriture).exists():
        raise OperationInterdite("Cette écriture a été contre-passée.")
    _ordre_qui_empeche(ecriture, argent_parti_interdit=False)
    deja = (
        ecriture.remboursements.filter(contrepassee_par__isnull=True).aggregate(
            total=Sum("montant")
        )["total"]
        or ZERO
    )
    if montant > ecriture.montant - deja:
        raise OperationInterdite(
            f"Le remboursement dépasse le débit d'origine : {euros(ecriture.montant - deja)} "
            "remboursables."
        )
    lignes = list(ecriture.lignes.select_related("bloque_d422"))
    partie = next(ligne for ligne in lignes if ligne.partie != Partie.CONTREPARTIE)
    contrepartie = next(ligne for ligne in lignes if ligne.partie == Partie.CONTREPARTIE)
    if partie.bloque_d422 is not None:
        _reprendre_autorisation(
            partie.bloque_d422, auteur, f"Remboursement de {euros(montant)} sur la dépense"
        )
    return _passer(
        compte,
        nature=NatureEcriture.REMBOURSEMENT,
        source=source,
        motif=motif,
        lignes=[
            Ligne(partie.partie, montant, bloque=partie.bloque_d422, livret=partie.livret_a),
            Ligne(Partie.CONTREPARTIE, -montant, contrepartie.contrepartie),
        ],
        auteur=auteur,
        auteur_systeme=auteur_systeme,
        date_operation=date_operation or aujourdhui(),
        rembourse=ecriture,
        autorisation=partie.bloque_d422,
    )


# --- Reversals ------------------------------------------------------------------------


def _lignes_inverses(compte: CompteNominatif, ecriture: Ecriture) -> list[Ligne]:
    lignes = list(ecriture.lignes.select_related("bloque_d422"))
    reparties, autres = lignes_reparties(ecriture, lignes)
    inverses = [
        Ligne(
            ligne.partie,
            -ligne.montant,
            ligne.contrepartie,
            ligne.bloque_d422,
            livret=ligne.livret_a,
        )
        for ligne in autres
    ]
    if reparties:
        # Legacy or current, the split shares of an entry add up to its subject amount.
        reprise = reprise_repartition(compte, ecriture.montant_soumis, ecriture.mois_repartition)
        inverses += [Ligne(partie, -reprise[partie], repartie=True) for partie in PARTIES_DU_COMPTE]
    return inverses


def _apres_contrepassation(ecriture: Ecriture, auteur) -> None:
    """What a reversed movement changes besides money: the permission's state, the D.422
    request's state and log, the release, the garnishment."""
    nature = ecriture.nature
    permissions = PermissionSortie.objects.select_for_update()
    if nature == NatureEcriture.PERMISSION_REMISE:
        for permission in permissions.filter(ecriture_remise=ecriture):
            permission.statut = StatutPermission.FIXEE
            permission.ecriture_remise = None
            permission.save(update_fields=["statut", "ecriture_remise"])
    elif nature == NatureEcriture.PERMISSION_RETOUR:
        for permission in permissions.filter(ecriture_retour=ecriture):
            permission.statut = StatutPermission.REMISE
            permission.ecriture_retour = None
            permission.montant_rapporte = None
            permission.save(update_fields=["statut", "ecriture_retour", "montant_rapporte"])
    elif nature == NatureEcriture.LIBERATION:
        detenu = ecriture.compte.detenu
        detenu.libere_le = None
        detenu.save(update_fields=["libere_le"])
        CompteNominatif.objects.filter(pk=ecriture.compte_id).update(cloture_le=None)
    elif nature == NatureEcriture.SAISIE_ATTRIBUTION:
        paiement = PaiementSaisie.objects.select_related("saisie").filter(ecriture=ecriture)
        for lien in paiement:
            if lien.saisie.statut == StatutSaisie.SOLDEE:
                lien.saisie.statut = StatutSaisie.EN_COURS
                lien.saisie.save(update_fields=["statut"])
    if ecriture.autorisation_d422_id is not None:
        autorisation = ecriture.autorisation_d422
        details = f"Écriture n° {ecriture.pk} ({ecriture.get_nature_display().lower()})"
        if nature in (NatureEcriture.DEPENSE_D422, NatureEcriture.RELIQUAT_D422):
            _reprendre_autorisation(autorisation, auteur, details)
        EvenementD422.objects.create(
            autorisation=autorisation,
            auteur=auteur,
            action=ActionD422.CONTREPASSATION,
            details=details,
        )


@transaction.atomic
def contrepasser(
    *, ecriture: Ecriture, motif: str, auteur=None, auteur_systeme: str = ""
) -> Ecriture:
    """Cancel an entry by a new, exactly inverse one (see the module's docstring). A
    subject receipt's reversal also takes it out of its month's counter."""
    compte = _verrouiller(ecriture.compte_id)
    verifier_droits(
        auteur, compte.detenu.etablissement, "regie.passer_ecriture", "contre-passer une écriture"
    )
    ecriture = Ecriture.objects.select_related("compte__detenu", "autorisation_d422").get(
        pk=ecriture.pk
    )
    deja = Ecriture.objects.filter(contrepasse=ecriture).first()
    if deja is not None:
        raise EcritureDejaPassee(
            f"Cette écriture a déjà été contre-passée (écriture n° {deja.pk}).", ecriture=deja
        )
    if ecriture.nature not in NATURES_CONTREPASSABLES:
        raise OperationInterdite(
            f"Une écriture « {ecriture.get_nature_display()} » ne peut pas être contre-passée"
            + (
                " : effectuez un transfert en retour vers l'établissement d'origine."
                if ecriture.nature != NatureEcriture.CONTREPASSATION
                else " : enregistrez à nouveau le mouvement."
            )
        )
    if ecriture.remboursements.filter(contrepassee_par__isnull=True).exists():
        raise OperationInterdite(
            "Cette écriture a déjà fait l'objet d'un remboursement : contre-passez d'abord "
            "le remboursement."
        )
    if compte.cloture_le is not None and ecriture.nature != NatureEcriture.LIBERATION:
        raise OperationInterdite("Ce compte nominatif est clôturé.")
    _ordre_qui_empeche(ecriture, argent_parti_interdit=True)
    lignes = _lignes_inverses(compte, ecriture)
    _verifier_reprise(compte, lignes, ecriture)
    inverse = _passer(
        compte,
        nature=NatureEcriture.CONTREPASSATION,
        source=f"contrepassation:{ecriture.pk}",
        motif=motif,
        lignes=lignes,
        auteur=auteur,
        auteur_systeme=auteur_systeme,
        date_operation=aujourdhui(),
        montant_soumis=-ecriture.montant_soumis,
        mois_repartition=ecriture.mois_repartition,
        emetteur=ecriture.emetteur,
        autorisation=ecriture.autorisation_d422,
        contrepasse=ecriture,
        autoriser_compte_cloture=ecriture.nature == NatureEcriture.LIBERATION,
    )
    _apres_contrepassation(ecriture, auteur)
    return inverse
