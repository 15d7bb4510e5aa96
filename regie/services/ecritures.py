"""The posting primitive every movement goes through, and what all movements share: input
checks, rights, the account lock, the month's counter, the natures of entries. Opening an
account (`ecrouer`) is here too."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q, Sum

from socle.dates import aujourdhui
from socle.formats import euros
from socle.transactions import (
    ecritures_engagees,
    inserer_et_mettre_a_jour,
    inserer_sauf_doublon,
)

from ..exceptions import (
    DroitsInsuffisants,
    EcritureDejaPassee,
    MontantInvalide,
    OperationInterdite,
    SoldeInsuffisant,
)
from ..models import (
    NOMS_PARTIES,
    PARTIES_DU_COMPTE,
    ZERO,
    Affectation,
    AutorisationD422,
    CompteNominatif,
    CompteurMensuel,
    Contrepartie,
    Detenu,
    Ecriture,
    Etablissement,
    LigneEcriture,
    NatureEcriture,
    Partie,
    PrescriptionJap,
    TypePrescriptionJap,
)
from ..repartition import Situation, prelevements_cumules, repartir

CENT = Decimal("0.01")

NATURES_RECETTES_SOUMISES = frozenset(
    {
        NatureEcriture.SUBSIDE_PROCHE,
        NatureEcriture.SALAIRE,
        NatureEcriture.FORMATION,
        NatureEcriture.NUMERAIRE_ECROU,
        NatureEcriture.AUTRE_RECETTE,
    }
)
CONTREPARTIE_DES_DEBITS = {
    NatureEcriture.CANTINE: Contrepartie.FOURNISSEUR,
    NatureEcriture.LOCATION: Contrepartie.FOURNISSEUR,
    NatureEcriture.VIREMENT_SORTANT: Contrepartie.EXTERIEUR,
    NatureEcriture.REMISE_DETENU: Contrepartie.DETENU,
    NatureEcriture.AUTRE_DEBIT: Contrepartie.EXTERIEUR,
}
# Spec 01 section 9: every movement has an exact inverse (`contrepasser`). A reversal is
# not reversed (the movement is booked again), and a transfer between prisons is undone
# by a transfer back (`transferer_detenu`), which moves each part's balance unsplit.
NATURES_NON_CONTREPASSABLES = frozenset(
    {
        NatureEcriture.CONTREPASSATION,
        NatureEcriture.TRANSFERT_SORTANT,
        NatureEcriture.TRANSFERT_ENTRANT,
        # The money of a refused or rejected payment order, put back: final (the order
        # can be issued again instead).
        NatureEcriture.ANNULATION_ORDRE,
    }
)
NATURES_CONTREPASSABLES = frozenset(NatureEcriture.values) - NATURES_NON_CONTREPASSABLES
# Debits of one part that a refund (`rembourser`) gives back, in part, to the part they
# came from (with its D.422 block).
NATURES_REMBOURSABLES = frozenset(CONTREPARTIE_DES_DEBITS) | {
    NatureEcriture.PAIEMENT_VICTIMES,
    NatureEcriture.DEBLOCAGE_PECULE,
    NatureEcriture.DEPENSE_D422,
    NatureEcriture.SAISIE_ATTRIBUTION,
    NatureEcriture.REMISE_SUSPENSION,
}


# --- Input checks ---------------------------------------------------------------------


def montant_valide(valeur, *, libelle: str = "Le montant") -> Decimal:
    """A positive amount in euros with at most two decimals, as a Decimal with two places.

    Floats are refused: money never goes through binary floating point.
    """
    if isinstance(valeur, bool) or not isinstance(valeur, Decimal | int | str):
        raise MontantInvalide(f"{libelle} doit être un nombre décimal (par exemple 12,50).")
    try:
        montant = Decimal(str(valeur).strip().replace(",", "."))
    except InvalidOperation as exc:
        raise MontantInvalide(f"{libelle} n'est pas un nombre valide.") from exc
    if not montant.is_finite():
        raise MontantInvalide(f"{libelle} n'est pas un nombre valide.")
    if montant <= 0:
        raise MontantInvalide(f"{libelle} doit être strictement positif.")
    if montant != montant.quantize(CENT):
        raise MontantInvalide(f"{libelle} ne peut pas avoir plus de deux décimales.")
    if montant >= Decimal("1e10"):
        raise MontantInvalide(f"{libelle} est trop élevé.")
    return montant.quantize(CENT)


def _auteur_requis(auteur, auteur_systeme: str) -> None:
    if auteur is None and not auteur_systeme:
        raise ValueError("A movement needs an author: a user or auteur_systeme.")


def verifier_droits(auteur, etablissement: Etablissement, permission: str, action: str) -> None:
    """Raise DroitsInsuffisants unless `auteur` holds `permission` and is attached to
    `etablissement` (superusers are attached everywhere). `auteur=None` is a system
    process and is not checked here."""
    if auteur is None:
        return
    if not auteur.is_active or not auteur.has_perm(permission):
        raise DroitsInsuffisants(f"Vous n'avez pas le droit de {action}.")
    if auteur.is_superuser:
        return
    if not Affectation.objects.filter(utilisateur=auteur, etablissement=etablissement).exists():
        raise DroitsInsuffisants(
            f"Vous n'êtes pas affecté(e) à l'établissement {etablissement.nom}."
        )


def _premier_du_mois(jour: datetime.date) -> datetime.date:
    return jour.replace(day=1)


# --- The posting primitive ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ligne:
    partie: str
    montant: Decimal
    contrepartie: str = ""
    bloque: AutorisationD422 | None = None
    repartie: bool = False  # a share computed by the répartition (LigneEcriture.issue_repartition)
    livret: bool = False  # pécule placed on the livret A (D. 332-14)


# An entry still in effect: not reversed, and not put back by a refused or rejected
# payment order (its money came back on the account by another entry).
EN_VIGUEUR = Q(contrepassee_par__isnull=True) & ~Q(
    ordres_virement__ecriture_annulation__isnull=False
)


def _verrouiller(compte_id: int) -> CompteNominatif:
    """Lock the account row for the rest of the transaction (the detainee, their
    establishment and its vigilance rules are read in the same statement, not locked)."""
    return (
        CompteNominatif.objects.select_for_update(of=("self",))
        .select_related("detenu", "detenu__etablissement__regles_vigilance")
        .get(pk=compte_id)
    )


def _cumul_du_mois(compte: CompteNominatif, jour: datetime.date) -> Decimal:
    compteur = CompteurMensuel.objects.filter(
        compte=compte, annee=jour.year, mois=jour.month
    ).first()
    return compteur.cumul if compteur else ZERO


def _lignes_repartition(
    compte: CompteNominatif, montant: Decimal, jour: datetime.date, cumul: Decimal
) -> list[Ligne]:
    """The three credit lines of a subject receipt (D. 332-10 to D. 332-15)."""
    detenu = compte.detenu
    resultat = repartir(
        montant,
        Situation(
            cumul_mois=cumul,
            mois=jour.month,
            sans_pecule=detenu.sans_pecule,
            solde_parties_civiles=compte.parties_civiles,
            plafond_parties_civiles=detenu.plafond_parties_civiles,
        ),
    )
    parties_civiles = _prescription_jap(detenu, resultat.parties_civiles, montant, jour, cumul)
    part_disponible = resultat.part_disponible + resultat.parties_civiles - parties_civiles
    return [
        Ligne(Partie.PARTIES_CIVILES, parties_civiles, repartie=True),
        Ligne(Partie.PECULE_LIBERATION, resultat.pecule_liberation, repartie=True),
        Ligne(Partie.PART_DISPONIBLE, part_disponible, repartie=True),
    ]


def prescription_jap_en_vigueur(detenu: Detenu, jour: datetime.date) -> PrescriptionJap | None:
    """The JAP's prescription on the part 1 levy that applies to a receipt of `jour`."""
    return (
        PrescriptionJap.objects.filter(detenu=detenu, debut__lte=jour)
        .exclude(fin__lt=jour)
        .order_by("-debut", "-pk")
        .first()
    )


def _prescription_jap(
    detenu: Detenu, parties_civiles: Decimal, montant: Decimal, jour: datetime.date, cumul
) -> Decimal:
    """D. 424-1: under a regime without pécule, part 1 stays due « sous réserve de
    prescriptions particulières déterminées par le juge de l'application des peines ».
    A full dispensation leaves the levy in the part disponible; a proportion or a monthly
    cap is applied to the month's cumulative levy, so that, as for the bands, splitting
    a month's money differently never changes the totals."""
    if not detenu.sans_pecule or parties_civiles <= 0:
        return parties_civiles
    if detenu.decision_jap_sans_parties_civiles:
        return ZERO
    prescription = prescription_jap_en_vigueur(detenu, jour)
    if prescription is None:
        return parties_civiles
    if prescription.type == TypePrescriptionJap.DISPENSE_TOTALE:
        return ZERO
    avant, _ = prelevements_cumules(cumul, jour.month)
    apres, _ = prelevements_cumules(cumul + montant, jour.month)
    if prescription.type == TypePrescriptionJap.PROPORTION:
        taux = prescription.proportion / 100
        du = _demi_haut(apres * taux) - _demi_haut(avant * taux)
    else:
        plafond = prescription.plafond_mensuel
        du = min(apres, plafond) - min(avant, plafond)
    return max(ZERO, min(parties_civiles, du))


def _demi_haut(valeur: Decimal) -> Decimal:
    return valeur.quantize(CENT, rounding=ROUND_HALF_UP)


def _passer(
    compte: CompteNominatif,
    *,
    nature: str,
    source: str,
    motif: str,
    lignes: Iterable[Ligne],
    auteur,
    auteur_systeme: str,
    date_operation: datetime.date,
    piece: str = "",
    montant_soumis: Decimal = ZERO,
    mois_repartition: datetime.date | None = None,
    emetteur: str = "",
    autorisation: AutorisationD422 | None = None,
    contrepasse: Ecriture | None = None,
    rembourse: Ecriture | None = None,
    etablissement: Etablissement | None = None,
    autoriser_compte_cloture: bool = False,
) -> Ecriture:
    """Write one balanced entry on a locked account and update its balances and counter."""
    _controler_entete(source, motif, auteur, auteur_systeme)
    deja = Ecriture.objects.filter(source=source).first()
    if deja is not None:
        raise _deja_passee(deja)
    if compte.cloture_le is not None and not autoriser_compte_cloture:
        raise OperationInterdite("Ce compte nominatif est clôturé.")
    lignes, nouveaux, bloque = _controler_lignes(compte, lignes)
    ecriture = _nouvelle_ecriture(
        compte,
        etablissement=etablissement,
        nature=nature,
        source=source,
        motif=motif,
        piece=piece,
        date_operation=date_operation,
        auteur=auteur,
        auteur_systeme=auteur_systeme,
        montant=sum(ligne.montant for ligne in lignes if ligne.montant > 0),
        montant_soumis=montant_soumis,
        mois_repartition=mois_repartition if montant_soumis else None,
        emetteur=emetteur,
        autorisation_d422=autorisation,
        contrepasse=contrepasse,
        rembourse=rembourse,
    )
    ecriture.save(force_insert=True)
    _ecrire_lignes(ecriture, compte, lignes, nouveaux, bloque)
    if montant_soumis:
        _ajouter_au_compteur(compte, mois_repartition, montant_soumis)
    return ecriture


def _passer_recette(
    compte: CompteNominatif,
    *,
    montant: Decimal,
    nature: str,
    source: str,
    motif: str,
    auteur,
    auteur_systeme: str,
    date_operation: datetime.date,
    piece: str = "",
    emetteur: str = "",
) -> Ecriture:
    """`_passer` for a subject receipt on a locked account, in the fewest statements: the
    entry is inserted first (its unique source is the duplicate check: a duplicate raises
    EcritureDejaPassee before anything is written), then the month's counter in one upsert
    that returns the cumul the répartition starts from, then the lines and the balances.
    Every refusal comes before the first write; after it, an error dooms the caller's
    transaction (`socle.transactions.ecritures_engagees`)."""
    _controler_entete(source, motif, auteur, auteur_systeme)
    if compte.cloture_le is not None:
        raise OperationInterdite("Ce compte nominatif est clôturé.")
    mois = _premier_du_mois(date_operation)
    ecriture = _nouvelle_ecriture(
        compte,
        nature=nature,
        source=source,
        motif=motif,
        piece=piece,
        date_operation=date_operation,
        auteur=auteur,
        auteur_systeme=auteur_systeme,
        montant=montant,
        montant_soumis=montant,
        mois_repartition=mois,
        emetteur=emetteur,
    )
    if not inserer_sauf_doublon(ecriture):
        deja = Ecriture.objects.filter(source=source).first()
        if deja is None:  # another unique constraint: not a duplicate of this source
            raise IntegrityError(f"Entry {source!r} refused by a unique constraint.")
        raise _deja_passee(deja)
    with ecritures_engagees():
        cumul = _ajouter_au_compteur(compte, mois, montant) - montant
        lignes = _lignes_repartition(compte, montant, date_operation, cumul)
        lignes.append(Ligne(Partie.CONTREPARTIE, -montant, Contrepartie.ENCAISSEMENT))
        lignes, nouveaux, bloque = _controler_lignes(compte, lignes)
        if sum(ligne.montant for ligne in lignes if ligne.montant > 0) != montant:
            raise ValueError(f"A receipt's lines do not add up to {montant}: {lignes!r}")
        _ecrire_lignes(ecriture, compte, lignes, nouveaux, bloque)
    return ecriture


def _nouvelle_ecriture(
    compte: CompteNominatif,
    *,
    motif: str,
    auteur,
    auteur_systeme: str,
    etablissement: Etablissement | None = None,
    **champs,
) -> Ecriture:
    """An entry's header, not yet saved: the account's establishment unless another is
    given, the reason trimmed, the system author only when no person is."""
    return Ecriture(
        etablissement=etablissement or compte.detenu.etablissement,
        compte=compte,
        motif=motif.strip(),
        auteur=auteur,
        auteur_systeme=auteur_systeme if auteur is None else "",
        **champs,
    )


def _deja_passee(deja: Ecriture) -> EcritureDejaPassee:
    return EcritureDejaPassee(
        f"Cette opération a déjà été enregistrée (écriture n° {deja.pk}).", ecriture=deja
    )


def _controler_entete(source: str, motif: str, auteur, auteur_systeme: str) -> None:
    _auteur_requis(auteur, auteur_systeme)
    if not source:
        raise ValueError("Every entry needs a unique source.")
    if not motif or not motif.strip():
        raise OperationInterdite("Le motif de l'opération est obligatoire.")


def _controler_lignes(
    compte: CompteNominatif, lignes: Iterable[Ligne]
) -> tuple[list[Ligne], dict[str, Decimal], Decimal]:
    """The non-zero lines, balanced, and the account's new balances (and blocked sum), or
    SoldeInsuffisant when a part, the D.422 blocked sums or the livret A would break."""
    lignes = [ligne for ligne in lignes if ligne.montant != 0]
    if not lignes or sum(ligne.montant for ligne in lignes) != 0:
        raise ValueError(f"Unbalanced entry: {lignes!r}")

    nouveaux = {partie: getattr(compte, partie) for partie in PARTIES_DU_COMPTE}
    bloque = compte.part_disponible_bloquee
    par_autorisation: dict[int, Decimal] = defaultdict(Decimal)
    for ligne in lignes:
        if ligne.partie == Partie.CONTREPARTIE:
            continue
        nouveaux[ligne.partie] += ligne.montant
        if ligne.bloque is not None:
            bloque += ligne.montant
            par_autorisation[ligne.bloque.pk] += ligne.montant
    for partie, solde in nouveaux.items():
        if solde < 0:
            disponible = getattr(compte, partie)
            if partie == Partie.PART_DISPONIBLE:
                disponible = compte.part_disponible_libre
            raise SoldeInsuffisant(
                f"Solde insuffisant sur {NOMS_PARTIES[partie].en_phrase} : "
                f"{euros(disponible)} disponibles.",
                partie=partie,
                disponible=disponible,
            )
    libre_avant = compte.part_disponible_libre
    if bloque < 0 or bloque > nouveaux[Partie.PART_DISPONIBLE]:
        raise SoldeInsuffisant(
            "Solde insuffisant sur la part disponible non bloquée : "
            f"{euros(libre_avant)} disponibles (les sommes D.422 bloquées ne peuvent "
            "servir qu'à la dépense autorisée).",
            partie=Partie.PART_DISPONIBLE,
            disponible=libre_avant,
        )
    for autorisation_pk, variation in par_autorisation.items():
        if variation < 0 and _bloque_pour(autorisation_pk) + variation < 0:
            raise SoldeInsuffisant(
                "La somme bloquée pour cette autorisation D.422 est insuffisante.",
                partie=Partie.PART_DISPONIBLE,
            )
    # D. 332-14: the pécule placed on the livret A is part of the pécule; the pécule
    # never falls below it, and the livret never below zero.
    variation_livret = sum((ligne.montant for ligne in lignes if ligne.livret), ZERO)
    if variation_livret or nouveaux[Partie.PECULE_LIBERATION] < compte.pecule_liberation:
        livret = pecule_sur_livret_a(compte) + variation_livret
        if livret < 0 or livret > nouveaux[Partie.PECULE_LIBERATION]:
            raise SoldeInsuffisant(
                f"{euros(pecule_sur_livret_a(compte))} du pécule de libération sont placés "
                "sur livret A : rapatriez-les d'abord sur le pécule (D. 332-14).",
                partie=Partie.PECULE_LIBERATION,
                disponible=compte.pecule_liberation - pecule_sur_livret_a(compte),
            )
    return lignes, nouveaux, bloque


def _ecrire_lignes(
    ecriture: Ecriture,
    compte: CompteNominatif,
    lignes: list[Ligne],
    nouveaux: dict[str, Decimal],
    bloque: Decimal,
) -> None:
    """The entry's lines and the account's balances, in one statement on PostgreSQL."""
    compte.parties_civiles = nouveaux[Partie.PARTIES_CIVILES]
    compte.pecule_liberation = nouveaux[Partie.PECULE_LIBERATION]
    compte.part_disponible = nouveaux[Partie.PART_DISPONIBLE]
    compte.part_disponible_bloquee = bloque
    inserer_et_mettre_a_jour(
        [
            LigneEcriture(
                ecriture=ecriture,
                partie=ligne.partie,
                contrepartie=ligne.contrepartie,
                montant=ligne.montant,
                bloque_d422=ligne.bloque,
                issue_repartition=ligne.repartie,
                livret_a=ligne.livret,
            )
            for ligne in lignes
        ],
        compte,
        ["parties_civiles", "pecule_liberation", "part_disponible", "part_disponible_bloquee"],
    )


def _ajouter_au_compteur(compte: CompteNominatif, mois: datetime.date, montant: Decimal) -> Decimal:
    """Add `montant` to the account's counter of `mois` in one upsert (`INSERT … ON
    CONFLICT DO UPDATE … RETURNING`), under the account lock; returns the new cumul.
    A negative `montant` (a reversal) updates the existing counter: the proposed row of an
    upsert would break the counter's CHECK (cumul ≥ 0) before any conflict is seen."""
    if montant < 0:
        compteur, _ = CompteurMensuel.objects.get_or_create(
            compte=compte, annee=mois.year, mois=mois.month
        )
        CompteurMensuel.objects.filter(pk=compteur.pk).update(cumul=F("cumul") + montant)
        return compteur.cumul + montant
    table = connection.ops.quote_name(CompteurMensuel._meta.db_table)
    with connection.cursor() as curseur:
        curseur.execute(
            f"INSERT INTO {table} (compte_id, annee, mois, cumul) VALUES (%s, %s, %s, %s) "  # noqa: S608
            f"ON CONFLICT (compte_id, annee, mois) DO UPDATE SET cumul = {table}.cumul + "
            "EXCLUDED.cumul RETURNING cumul",
            [compte.pk, mois.year, mois.month, montant],
        )
        (cumul,) = curseur.fetchone()
    # PostgreSQL returns a Decimal; SQLite (local runs) a number, read back exactly.
    return Decimal(str(cumul)).quantize(CENT)


def _bloque_pour(autorisation_pk: int) -> Decimal:
    return (
        LigneEcriture.objects.filter(bloque_d422_id=autorisation_pk).aggregate(
            total=Sum("montant")
        )["total"]
        or ZERO
    )


def pecule_sur_livret_a(compte: CompteNominatif) -> Decimal:
    """The share of the pécule de libération placed on the livret A (D. 332-14)."""
    return (
        LigneEcriture.objects.filter(ecriture__compte=compte, livret_a=True).aggregate(
            total=Sum("montant")
        )["total"]
        or ZERO
    )


def _source_libre(modele, source: str | None, message: str) -> None:
    """Refuse a second record from the same source (under the row lock the caller holds,
    or the unique constraint for two truly simultaneous requests)."""
    if source is None:
        return
    deja = modele.objects.filter(source=source).first()
    if deja is not None:
        raise EcritureDejaPassee(f"{message} (n° {deja.pk}).", objet=deja)


def _compte_actif(compte: CompteNominatif) -> None:
    detenu = compte.detenu
    if detenu.libere_le is not None:
        raise OperationInterdite("Cette personne a été libérée : son compte est liquidé.")
    if detenu.decede_le is not None:
        raise OperationInterdite(
            f"Cette personne est décédée le {detenu.decede_le:%d/%m/%Y} : son compte est "
            "conservé pour ses ayants droit (D. 332-8)."
        )
    if detenu.est_evade:
        raise OperationInterdite(
            f"Cette personne s'est évadée le {detenu.evade_le:%d/%m/%Y} : son compte est "
            "arrêté (L. 332-4)."
        )


def _mouvement_simple(
    *,
    compte: CompteNominatif,
    partie: str,
    montant: Decimal,
    contrepartie: str,
    nature: str,
    source: str,
    motif: str,
    auteur,
    auteur_systeme: str = "",
    date_operation: datetime.date | None,
    piece: str = "",
    permission: str = "regie.passer_ecriture",
    action: str = "passer une écriture",
    compte_actif: bool = True,
    controle=None,
) -> Ecriture:
    """One part of the account against its counterpart: `montant` is signed from the
    account's side (positive credits the part, negative debits it). `controle(compte)`
    runs on the locked account before anything is written."""
    compte = _verrouiller(compte.pk)
    verifier_droits(auteur, compte.detenu.etablissement, permission, action)
    if compte_actif:
        _compte_actif(compte)
    if controle is not None:
        controle(compte)
    return _passer(
        compte,
        nature=nature,
        source=source,
        motif=motif,
        lignes=[Ligne(partie, montant), Ligne(Partie.CONTREPARTIE, -montant, contrepartie)],
        auteur=auteur,
        auteur_systeme=auteur_systeme,
        date_operation=date_operation or aujourdhui(),
        piece=piece,
    )


# --- Opening an account ---------------------------------------------------------------


@transaction.atomic
def ecrouer(*, etablissement: Etablissement, auteur, **identite) -> Detenu:
    """Create a detainee and their compte nominatif (one account per detainee)."""
    verifier_droits(auteur, etablissement, "regie.add_detenu", "écrouer une personne")
    detenu = Detenu(etablissement=etablissement, **identite)
    detenu.full_clean()
    detenu.save()
    CompteNominatif.objects.create(detenu=detenu)
    return detenu
