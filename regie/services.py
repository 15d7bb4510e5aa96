"""Every movement of money on a compte nominatif, and the D.422 workflow.

Each public function is keyword-only and:
1. validates its input (a bad amount raises `MontantInvalide` before anything is read);
2. checks the author's role and establishment (`DroitsInsuffisants`), unless the caller is
   an automatic process identified by `auteur_systeme`;
3. opens a transaction and takes a row lock on the account (SELECT ... FOR UPDATE), so
   movements on one account are serialised and the balances, the monthly counter and the
   caps are read and written consistently;
4. writes exactly one ledger entry (two for a transfer between prisons), updates the
   balances and the monthly counter in the same transaction, and returns the entry.
A refused movement raises a `ErreurMetier` and writes nothing. The admin, the API, the
views and the Celery tasks all call these functions; nothing else writes the ledger.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from socle.dates import aujourdhui
from socle.formats import euros

from .exceptions import (
    DecisionDejaPrise,
    DroitsInsuffisants,
    EcritureDejaPassee,
    MontantInvalide,
    OperationInterdite,
    SoldeInsuffisant,
    SubsidesInterdits,
)
from .models import (
    NOMS_PARTIES,
    PARTIES_DU_COMPTE,
    ZERO,
    ActionD422,
    Affectation,
    AutorisationD422,
    ChoixReliquat,
    CompteNominatif,
    CompteurMensuel,
    Contrepartie,
    DecisionMagistrat,
    Detenu,
    Ecriture,
    Etablissement,
    EvenementD422,
    LigneEcriture,
    NatureEcriture,
    Partie,
    PermissionSortie,
    StatutD422,
    StatutPenal,
    StatutPermission,
)
from .plafonds import verifier_plafonds
from .repartition import Situation, repartir

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
NATURES_CONTREPASSABLES = NATURES_RECETTES_SOUMISES | {
    NatureEcriture.CANTINE,
    NatureEcriture.LOCATION,
    NatureEcriture.VIREMENT_SORTANT,
    NatureEcriture.REMISE_DETENU,
    NatureEcriture.AUTRE_DEBIT,
    NatureEcriture.PAIEMENT_VICTIMES,
    NatureEcriture.CAPITAL_RENTE_AT,
    NatureEcriture.DEBLOCAGE_PECULE,
}
SEUIL_FGTI = Decimal("500.00")


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


def _verrouiller(compte_id: int) -> CompteNominatif:
    """Lock the account row for the rest of the transaction (the detainee is read, not locked)."""
    return (
        CompteNominatif.objects.select_for_update(of=("self",))
        .select_related("detenu", "detenu__etablissement")
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
    parties_civiles = resultat.parties_civiles
    part_disponible = resultat.part_disponible
    if detenu.sans_pecule and detenu.decision_jap_sans_parties_civiles:
        # D. 424-1: the JAP may dispense with the part 1 levy; it then stays available.
        part_disponible += parties_civiles
        parties_civiles = ZERO
    return [
        Ligne(Partie.PARTIES_CIVILES, parties_civiles),
        Ligne(Partie.PECULE_LIBERATION, resultat.pecule_liberation),
        Ligne(Partie.PART_DISPONIBLE, part_disponible),
    ]


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
    _auteur_requis(auteur, auteur_systeme)
    if not source:
        raise ValueError("Every entry needs a unique source.")
    if not motif or not motif.strip():
        raise OperationInterdite("Le motif de l'opération est obligatoire.")
    deja = Ecriture.objects.filter(source=source).first()
    if deja is not None:
        raise EcritureDejaPassee(
            f"Cette opération a déjà été enregistrée (écriture n° {deja.pk}).", ecriture=deja
        )
    if compte.cloture_le is not None and not autoriser_compte_cloture:
        raise OperationInterdite("Ce compte nominatif est clôturé.")

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

    ecriture = Ecriture.objects.create(
        etablissement=etablissement or compte.detenu.etablissement,
        compte=compte,
        nature=nature,
        source=source,
        motif=motif.strip(),
        piece=piece,
        date_operation=date_operation,
        auteur=auteur,
        auteur_systeme=auteur_systeme if auteur is None else "",
        montant=sum(ligne.montant for ligne in lignes if ligne.montant > 0),
        montant_soumis=montant_soumis,
        mois_repartition=mois_repartition if montant_soumis else None,
        emetteur=emetteur,
        autorisation_d422=autorisation,
        contrepasse=contrepasse,
        rembourse=rembourse,
    )
    LigneEcriture.objects.bulk_create(
        LigneEcriture(
            ecriture=ecriture,
            partie=ligne.partie,
            contrepartie=ligne.contrepartie,
            montant=ligne.montant,
            bloque_d422=ligne.bloque,
        )
        for ligne in lignes
    )
    compte.parties_civiles = nouveaux[Partie.PARTIES_CIVILES]
    compte.pecule_liberation = nouveaux[Partie.PECULE_LIBERATION]
    compte.part_disponible = nouveaux[Partie.PART_DISPONIBLE]
    compte.part_disponible_bloquee = bloque
    compte.save(
        update_fields=[
            "parties_civiles",
            "pecule_liberation",
            "part_disponible",
            "part_disponible_bloquee",
        ]
    )
    if montant_soumis:
        compteur, _ = CompteurMensuel.objects.get_or_create(
            compte=compte, annee=mois_repartition.year, mois=mois_repartition.month
        )
        CompteurMensuel.objects.filter(pk=compteur.pk).update(cumul=F("cumul") + montant_soumis)
    return ecriture


def _bloque_pour(autorisation_pk: int) -> Decimal:
    return (
        LigneEcriture.objects.filter(bloque_d422_id=autorisation_pk).aggregate(
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
    if compte.detenu.libere_le is not None:
        raise OperationInterdite("Cette personne a été libérée : son compte est liquidé.")


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


# --- Receipts -------------------------------------------------------------------------


@transaction.atomic
def encaisser_recette(
    *,
    compte: CompteNominatif,
    montant,
    nature: str,
    source: str,
    motif: str,
    auteur=None,
    auteur_systeme: str = "",
    date_operation: datetime.date | None = None,
    piece: str = "",
    emetteur: str = "",
) -> Ecriture:
    """A receipt subject to répartition (section 3): relatives' subsidies, wages, training
    pay, cash at committal, any other sum. It counts in the month's counter."""
    montant = montant_valide(montant)
    if nature not in NATURES_RECETTES_SOUMISES:
        raise ValueError(f"{nature!r} is not a subject receipt.")
    jour = date_operation or aujourdhui()
    compte = _verrouiller(compte.pk)
    verifier_droits(
        auteur, compte.detenu.etablissement, "regie.passer_ecriture", "passer une écriture"
    )
    _compte_actif(compte)
    cumul = _cumul_du_mois(compte, jour)
    lignes = _lignes_repartition(compte, montant, jour, cumul)
    lignes.append(Ligne(Partie.CONTREPARTIE, -montant, Contrepartie.ENCAISSEMENT))
    return _passer(
        compte,
        nature=nature,
        source=source,
        motif=motif,
        lignes=lignes,
        auteur=auteur,
        auteur_systeme=auteur_systeme,
        date_operation=jour,
        piece=piece,
        montant_soumis=montant,
        mois_repartition=_premier_du_mois(jour),
        emetteur=emetteur,
    )


@transaction.atomic
def crediter_virement_proche(
    *,
    compte: CompteNominatif,
    montant,
    source: str,
    emetteur: str,
    motif: str,
    auteur_systeme: str,
    date_operation: datetime.date | None = None,
    autorisation: AutorisationD422 | None = None,
) -> Ecriture:
    """Credit a relative's transfer after checking, under the account lock, the caps and
    the deprivation of subsidies (section 6). On a refusal nothing is written and
    `PlafondDepasse` or `SubsidesInterdits` is raised, for the transfer to be held for the
    régisseur. With an authorisation, the authorised part is exempt (D.422)."""
    montant = montant_valide(montant)
    jour = date_operation or aujourdhui()
    compte = _verrouiller(compte.pk)
    _compte_actif(compte)
    if compte.detenu.est_prive_de_subsides(jour):
        raise SubsidesInterdits(
            "La personne détenue est privée de subsides jusqu'au "
            f"{compte.detenu.prive_de_subsides_jusquau:%d/%m/%Y}."
        )
    if autorisation is not None:
        reste = autorisation.montant_autorise - montant_recu_d422(autorisation)
        excedent = montant - min(montant, max(reste, ZERO))
        if excedent:
            verifier_plafonds(compte=compte, montant=excedent, emetteur=emetteur, jour=jour)
        return encaisser_subside_d422(
            autorisation=autorisation,
            montant=montant,
            source=source,
            motif=motif,
            auteur_systeme=auteur_systeme,
            date_operation=jour,
            emetteur=emetteur,
        )
    verifier_plafonds(compte=compte, montant=montant, emetteur=emetteur, jour=jour)
    return encaisser_recette(
        compte=compte,
        montant=montant,
        nature=NatureEcriture.SUBSIDE_PROCHE,
        source=source,
        motif=motif,
        auteur_systeme=auteur_systeme,
        date_operation=jour,
        emetteur=emetteur,
    )


@transaction.atomic
def crediter_capital_rente_accident_travail(
    *,
    compte: CompteNominatif,
    montant,
    source: str,
    motif: str,
    auteur,
    date_operation: datetime.date | None = None,
    piece: str = "",
) -> Ecriture:
    """D. 332-14: the capital of a work-accident rent goes wholly to the pécule de libération."""
    return _mouvement_simple(
        compte=compte,
        partie=Partie.PECULE_LIBERATION,
        montant=montant_valide(montant),
        contrepartie=Contrepartie.ENCAISSEMENT,
        nature=NatureEcriture.CAPITAL_RENTE_AT,
        source=source,
        motif=motif,
        auteur=auteur,
        date_operation=date_operation,
        piece=piece,
    )


# --- Debits ---------------------------------------------------------------------------


@transaction.atomic
def debiter_part_disponible(
    *,
    compte: CompteNominatif,
    montant,
    nature: str,
    source: str,
    motif: str,
    auteur=None,
    auteur_systeme: str = "",
    date_operation: datetime.date | None = None,
    piece: str = "",
) -> Ecriture:
    """Canteen, rentals, money sent out, sums handed over: the part disponible only,
    never its blocked D.422 sums, never below zero."""
    montant = montant_valide(montant)
    if nature not in CONTREPARTIE_DES_DEBITS:
        raise ValueError(f"{nature!r} is not a debit of the part disponible.")

    def part_libre_suffisante(compte: CompteNominatif) -> None:
        if montant <= compte.part_disponible_libre:
            return
        bloque = compte.part_disponible_bloquee
        raise SoldeInsuffisant(
            f"Solde insuffisant sur la part disponible : {euros(compte.part_disponible_libre)} "
            f"disponibles pour un débit de {euros(montant)}"
            + (
                f" ({euros(bloque)} sont bloqués pour une dépense autorisée D.422 et ne sont "
                "pas utilisables ; la part disponible non bloquée est insuffisante)."
                if bloque
                else "."
            ),
            partie=Partie.PART_DISPONIBLE,
            disponible=compte.part_disponible_libre,
        )

    return _mouvement_simple(
        compte=compte,
        partie=Partie.PART_DISPONIBLE,
        montant=-montant,
        contrepartie=CONTREPARTIE_DES_DEBITS[nature],
        nature=nature,
        source=source,
        motif=motif,
        auteur=auteur,
        auteur_systeme=auteur_systeme,
        date_operation=date_operation,
        piece=piece,
        controle=part_libre_suffisante,
    )


@transaction.atomic
def payer_parties_civiles(
    *,
    compte: CompteNominatif,
    montant,
    beneficiaire: str,
    source: str,
    motif: str,
    auteur,
    date_operation: datetime.date | None = None,
    piece: str = "",
) -> Ecriture:
    """D. 332-11: pay victims or maintenance creditors from part 1, at the prosecutor's
    request (the request is the `piece`)."""
    montant = montant_valide(montant)
    if not beneficiaire.strip():
        raise OperationInterdite("Le bénéficiaire du paiement est obligatoire.")
    return _mouvement_simple(
        compte=compte,
        partie=Partie.PARTIES_CIVILES,
        montant=-montant,
        contrepartie=Contrepartie.PARTIES_CIVILES,
        nature=NatureEcriture.PAIEMENT_VICTIMES,
        source=source,
        motif=f"{motif.strip()} – bénéficiaire : {beneficiaire.strip()}",
        auteur=auteur,
        date_operation=date_operation,
        piece=piece,
        compte_actif=False,
    )


@transaction.atomic
def debloquer_pecule_liberation(
    *,
    compte: CompteNominatif,
    montant,
    source: str,
    motif: str,
    auteur,
    date_operation: datetime.date | None = None,
    piece: str = "",
) -> Ecriture:
    """D. 424-3: the head releases pécule for resettlement expenses during a sentence
    adjustment under écrou; it is paid out, not moved to the part disponible."""
    return _mouvement_simple(
        compte=compte,
        partie=Partie.PECULE_LIBERATION,
        montant=-montant_valide(montant),
        contrepartie=Contrepartie.DETENU,
        nature=NatureEcriture.DEBLOCAGE_PECULE,
        source=source,
        motif=motif,
        auteur=auteur,
        date_operation=date_operation,
        piece=piece,
        permission="regie.decider_deblocage_pecule",
        action="débloquer le pécule de libération",
        compte_actif=False,
    )


# --- Permission de sortir (D. 424-4) --------------------------------------------------


@transaction.atomic
def fixer_permission_sortie(
    *,
    compte: CompteNominatif,
    montant,
    date_sortie: datetime.date,
    auteur,
    source: str | None = None,
) -> PermissionSortie:
    """The head sets the cash handed out; refused if the part disponible does not hold it.
    `source` (a form token) makes a second submit of the same form harmless."""
    montant = montant_valide(montant)
    compte = _verrouiller(compte.pk)
    verifier_droits(
        auteur,
        compte.detenu.etablissement,
        "regie.fixer_permission_sortie",
        "fixer la somme d'une permission de sortir",
    )
    _compte_actif(compte)
    if montant > compte.part_disponible_libre:
        raise SoldeInsuffisant(
            "La permission ne peut pas être accordée pour cette somme : la part disponible "
            f"ne contient que {euros(compte.part_disponible_libre)}.",
            partie=Partie.PART_DISPONIBLE,
            disponible=compte.part_disponible_libre,
        )
    _source_libre(PermissionSortie, source, "Cette permission a déjà été enregistrée")
    return PermissionSortie.objects.create(
        compte=compte,
        montant_fixe=montant,
        date_sortie=date_sortie,
        fixee_par=auteur,
        source=source,
    )


def _verrouiller_permission(
    permission: PermissionSortie,
) -> tuple[PermissionSortie, CompteNominatif]:
    compte = _verrouiller(permission.compte_id)
    return PermissionSortie.objects.select_for_update().get(pk=permission.pk), compte


@transaction.atomic
def remettre_somme_permission(
    *, permission: PermissionSortie, auteur, date_operation: datetime.date | None = None
) -> Ecriture:
    permission, compte = _verrouiller_permission(permission)
    verifier_droits(
        auteur, compte.detenu.etablissement, "regie.passer_ecriture", "passer une écriture"
    )
    if permission.statut != StatutPermission.FIXEE:
        raise OperationInterdite("La somme de cette permission a déjà été remise ou annulée.")
    ecriture = _passer(
        compte,
        nature=NatureEcriture.PERMISSION_REMISE,
        source=f"permission:{permission.pk}:remise",
        motif=f"Somme remise pour la permission de sortir du {permission.date_sortie:%d/%m/%Y}",
        lignes=[
            Ligne(Partie.PART_DISPONIBLE, -permission.montant_fixe),
            Ligne(Partie.CONTREPARTIE, permission.montant_fixe, Contrepartie.DETENU),
        ],
        auteur=auteur,
        auteur_systeme="",
        date_operation=date_operation or aujourdhui(),
    )
    permission.statut = StatutPermission.REMISE
    permission.ecriture_remise = ecriture
    permission.save(update_fields=["statut", "ecriture_remise"])
    return ecriture


@transaction.atomic
def enregistrer_retour_permission(
    *,
    permission: PermissionSortie,
    montant_rapporte,
    auteur,
    date_operation: datetime.date | None = None,
) -> Ecriture | None:
    """D. 424-4: money brought back returns to the part disponible unsplit up to what was
    handed out; only the excess is split, as a subject receipt."""
    rapporte = (
        ZERO
        if montant_rapporte in (0, "0", ZERO)
        else montant_valide(montant_rapporte, libelle="La somme rapportée")
    )
    permission, compte = _verrouiller_permission(permission)
    verifier_droits(
        auteur, compte.detenu.etablissement, "regie.passer_ecriture", "passer une écriture"
    )
    if permission.statut != StatutPermission.REMISE:
        raise OperationInterdite(
            "Le retour ne peut être enregistré qu'après la remise de la somme."
        )
    ecriture = None
    if rapporte > 0:
        jour = date_operation or aujourdhui()
        restitue = min(rapporte, permission.montant_fixe)
        excedent = rapporte - restitue
        lignes = [Ligne(Partie.PART_DISPONIBLE, restitue)]
        if excedent:
            lignes += _lignes_repartition(compte, excedent, jour, _cumul_du_mois(compte, jour))
        lignes.append(Ligne(Partie.CONTREPARTIE, -rapporte, Contrepartie.DETENU))
        ecriture = _passer(
            compte,
            nature=NatureEcriture.PERMISSION_RETOUR,
            source=f"permission:{permission.pk}:retour",
            motif=f"Retour de la permission de sortir du {permission.date_sortie:%d/%m/%Y}",
            lignes=lignes,
            auteur=auteur,
            auteur_systeme="",
            date_operation=jour,
            montant_soumis=excedent,
            mois_repartition=_premier_du_mois(jour),
        )
    permission.statut = StatutPermission.REVENUE
    permission.montant_rapporte = rapporte
    permission.ecriture_retour = ecriture
    permission.save(update_fields=["statut", "montant_rapporte", "ecriture_retour"])
    return ecriture


# --- D.422 exempt subsidies (R. 332-3 al. 3) ------------------------------------------


def _journal_d422(
    autorisation: AutorisationD422, auteur, action: ActionD422, details: str = ""
) -> None:
    EvenementD422.objects.create(
        autorisation=autorisation, auteur=auteur, action=action, details=details
    )


def _verrouiller_d422(autorisation: AutorisationD422) -> AutorisationD422:
    return (
        AutorisationD422.objects.select_for_update(of=("self",))
        .select_related("detenu", "etablissement")
        .get(pk=autorisation.pk)
    )


@transaction.atomic
def demander_d422(
    *,
    detenu: Detenu,
    montant,
    objet: str,
    emetteur_attendu: str,
    reliquat: str,
    date_demande: datetime.date,
    auteur,
    emetteur_ref: str = "",
    source: str | None = None,
) -> AutorisationD422:
    """Record the detainee's written request (amount, purpose, sender, remainder).
    `source` (a form token) makes a second submit of the same form harmless."""
    montant = montant_valide(montant, libelle="Le montant demandé")
    detenu = _verrouiller(detenu.compte.pk).detenu  # serialises requests on this detainee
    verifier_droits(
        auteur, detenu.etablissement, "regie.add_autorisationd422", "enregistrer une demande D.422"
    )
    if detenu.libere_le is not None:
        raise OperationInterdite("Cette personne a été libérée.")
    if not objet.strip() or not emetteur_attendu.strip():
        raise OperationInterdite("L'objet de la dépense et l'émetteur attendu sont obligatoires.")
    if reliquat not in ChoixReliquat.values:
        raise OperationInterdite("Le sort du reliquat doit être choisi.")
    _source_libre(AutorisationD422, source, "Cette demande a déjà été enregistrée")
    autorisation = AutorisationD422.objects.create(
        source=source,
        detenu=detenu,
        etablissement=detenu.etablissement,
        montant_autorise=montant,
        objet=objet.strip(),
        emetteur_attendu=emetteur_attendu.strip(),
        emetteur_ref=emetteur_ref,
        reliquat=reliquat,
        date_demande=date_demande,
        enregistree_par=auteur,
    )
    _journal_d422(
        autorisation, auteur, ActionD422.DEMANDE, f"{euros(montant)} – {autorisation.objet}"
    )
    return autorisation


@transaction.atomic
def enregistrer_decision_magistrat(
    *,
    autorisation: AutorisationD422,
    decision: str,
    magistrat_nom: str,
    reference: str,
    date_decision: datetime.date,
    auteur,
) -> AutorisationD422:
    """For a prévenu, the investigating magistrate must agree before the head decides."""
    autorisation = _verrouiller_d422(autorisation)
    verifier_droits(
        auteur,
        autorisation.etablissement,
        "regie.enregistrer_decision_magistrat",
        "enregistrer la décision du magistrat",
    )
    if autorisation.statut != StatutD422.DEMANDEE:
        raise DecisionDejaPrise("Cette demande a déjà été décidée.")
    if autorisation.detenu.statut_penal == StatutPenal.CONDAMNE:
        raise OperationInterdite(
            "La décision du magistrat ne concerne que les personnes prévenues."
        )
    if autorisation.magistrat_decision:
        raise DecisionDejaPrise("La décision du magistrat est déjà enregistrée.")
    if decision not in DecisionMagistrat.values:
        raise OperationInterdite("La décision du magistrat doit être favorable ou défavorable.")
    if not magistrat_nom.strip() or not reference.strip():
        raise OperationInterdite("Le magistrat et la référence de sa décision sont obligatoires.")
    autorisation.magistrat_decision = decision
    autorisation.magistrat_nom = magistrat_nom.strip()
    autorisation.magistrat_reference = reference.strip()
    autorisation.magistrat_date = date_decision
    autorisation.save(
        update_fields=[
            "magistrat_decision",
            "magistrat_nom",
            "magistrat_reference",
            "magistrat_date",
        ]
    )
    _journal_d422(
        autorisation,
        auteur,
        ActionD422.DECISION_MAGISTRAT,
        f"{autorisation.get_magistrat_decision_display()} – {magistrat_nom} ({reference})",
    )
    return autorisation


@transaction.atomic
def decider_d422(
    *, autorisation: AutorisationD422, accorder: bool, motif: str, auteur
) -> AutorisationD422:
    """The chef d'établissement's decision (for a prévenu, the visa of the magistrate's)."""
    autorisation = _verrouiller_d422(autorisation)
    verifier_droits(
        auteur, autorisation.etablissement, "regie.decider_d422", "décider une demande D.422"
    )
    if autorisation.statut != StatutD422.DEMANDEE:
        raise DecisionDejaPrise(
            f"Cette demande a déjà été décidée ({autorisation.get_statut_display().lower()})."
        )
    if auteur.pk == autorisation.enregistree_par_id:
        raise DroitsInsuffisants("La personne qui a enregistré la demande ne peut pas la décider.")
    if not motif or not motif.strip():
        raise OperationInterdite("Le motif de la décision est obligatoire.")
    if autorisation.detenu.statut_penal != StatutPenal.CONDAMNE:
        if not autorisation.magistrat_decision:
            raise OperationInterdite(
                "Pour une personne prévenue, la décision du magistrat chargé de l'information "
                "doit être enregistrée avant celle du chef d'établissement."
            )
        if accorder and autorisation.magistrat_decision != DecisionMagistrat.FAVORABLE:
            raise OperationInterdite(
                "Le magistrat chargé de l'information a refusé : la demande ne peut être que refusée."
            )
    autorisation.statut = StatutD422.AUTORISEE if accorder else StatutD422.REFUSEE
    autorisation.decidee_par = auteur
    autorisation.decidee_le = timezone.now()
    autorisation.motif_decision = motif.strip()
    autorisation.save(update_fields=["statut", "decidee_par", "decidee_le", "motif_decision"])
    _journal_d422(
        autorisation,
        auteur,
        ActionD422.AUTORISATION if accorder else ActionD422.REFUS,
        motif.strip(),
    )
    return autorisation


def montant_recu_d422(autorisation: AutorisationD422) -> Decimal:
    """What has been received under the authorisation (exempt, blocked credits)."""
    return (
        LigneEcriture.objects.filter(
            bloque_d422=autorisation, montant__gt=0, ecriture__nature=NatureEcriture.SUBSIDE_D422
        ).aggregate(total=Sum("montant"))["total"]
        or ZERO
    )


def montant_bloque_d422(autorisation: AutorisationD422) -> Decimal:
    return _bloque_pour(autorisation.pk)


@transaction.atomic
def encaisser_subside_d422(
    *,
    autorisation: AutorisationD422,
    montant,
    source: str,
    motif: str,
    auteur=None,
    auteur_systeme: str = "",
    date_operation: datetime.date | None = None,
    emetteur: str = "",
) -> Ecriture:
    """Up to the authorised amount, credited whole to the part disponible and blocked;
    not counted in the month. Anything above is an ordinary subject receipt."""
    montant = montant_valide(montant)
    jour = date_operation or aujourdhui()
    compte = _verrouiller(CompteNominatif.objects.get(detenu_id=autorisation.detenu_id).pk)
    autorisation = _verrouiller_d422(autorisation)
    verifier_droits(
        auteur, compte.detenu.etablissement, "regie.passer_ecriture", "passer une écriture"
    )
    _compte_actif(compte)
    if autorisation.statut != StatutD422.AUTORISEE:
        raise OperationInterdite(
            f"L'autorisation D.422 n° {autorisation.pk} n'est pas en cours "
            f"({autorisation.get_statut_display().lower()})."
        )
    if autorisation.emetteur_ref and emetteur and emetteur != autorisation.emetteur_ref:
        raise OperationInterdite("Cette somme ne vient pas de l'émetteur autorisé.")
    reste = autorisation.montant_autorise - montant_recu_d422(autorisation)
    exonere = min(montant, max(reste, ZERO))
    excedent = montant - exonere
    lignes = [Ligne(Partie.PART_DISPONIBLE, exonere, bloque=autorisation)]
    if excedent:
        lignes += _lignes_repartition(compte, excedent, jour, _cumul_du_mois(compte, jour))
    lignes.append(Ligne(Partie.CONTREPARTIE, -montant, Contrepartie.ENCAISSEMENT))
    ecriture = _passer(
        compte,
        nature=NatureEcriture.SUBSIDE_D422,
        source=source,
        motif=motif,
        lignes=lignes,
        auteur=auteur,
        auteur_systeme=auteur_systeme,
        date_operation=jour,
        montant_soumis=excedent,
        mois_repartition=_premier_du_mois(jour),
        emetteur=emetteur,
        autorisation=autorisation,
    )
    _journal_d422(
        autorisation,
        auteur,
        ActionD422.RECEPTION,
        f"{euros(exonere)} bloqués" + (f", {euros(excedent)} répartis" if excedent else ""),
    )
    return ecriture


@transaction.atomic
def payer_depense_d422(
    *,
    autorisation: AutorisationD422,
    montant,
    source: str,
    motif: str,
    auteur,
    date_operation: datetime.date | None = None,
    piece: str = "",
) -> Ecriture:
    """Unblock and pay the authorised expense from the blocked sum."""
    montant = montant_valide(montant)
    compte = _verrouiller(CompteNominatif.objects.get(detenu_id=autorisation.detenu_id).pk)
    autorisation = _verrouiller_d422(autorisation)
    verifier_droits(
        auteur, compte.detenu.etablissement, "regie.passer_ecriture", "passer une écriture"
    )
    if autorisation.statut != StatutD422.AUTORISEE:
        raise OperationInterdite("Cette autorisation D.422 n'est pas en cours.")
    bloque = _bloque_pour(autorisation.pk)
    if montant > bloque:
        raise SoldeInsuffisant(
            f"La somme bloquée pour cette autorisation n'est que de {euros(bloque)}.",
            partie=Partie.PART_DISPONIBLE,
            disponible=bloque,
        )
    ecriture = _passer(
        compte,
        nature=NatureEcriture.DEPENSE_D422,
        source=source,
        motif=motif,
        lignes=[
            Ligne(Partie.PART_DISPONIBLE, -montant, bloque=autorisation),
            Ligne(Partie.CONTREPARTIE, montant, Contrepartie.FOURNISSEUR),
        ],
        auteur=auteur,
        auteur_systeme="",
        date_operation=date_operation or aujourdhui(),
        piece=piece,
        autorisation=autorisation,
    )
    _journal_d422(autorisation, auteur, ActionD422.DEPENSE, f"{euros(montant)} – {motif.strip()}")
    return ecriture


def _solder_bloque(
    autorisation: AutorisationD422,
    compte: CompteNominatif,
    *,
    choix: str,
    auteur,
    motif: str,
    date_operation: datetime.date | None,
) -> Ecriture | None:
    """Release what is still blocked: split as a subject receipt, or return to the sender."""
    reliquat = _bloque_pour(autorisation.pk)
    if reliquat <= 0:
        return None
    jour = date_operation or aujourdhui()
    lignes = [Ligne(Partie.PART_DISPONIBLE, -reliquat, bloque=autorisation)]
    montant_soumis = ZERO
    if choix == ChoixReliquat.REPARTIR:
        lignes += _lignes_repartition(compte, reliquat, jour, _cumul_du_mois(compte, jour))
        montant_soumis = reliquat
    else:
        lignes.append(Ligne(Partie.CONTREPARTIE, reliquat, Contrepartie.EMETTEUR))
    return _passer(
        compte,
        nature=NatureEcriture.RELIQUAT_D422,
        source=f"d422:{autorisation.pk}:reliquat",
        motif=motif,
        lignes=lignes,
        auteur=auteur,
        auteur_systeme="",
        date_operation=jour,
        montant_soumis=montant_soumis,
        mois_repartition=_premier_du_mois(jour),
        autorisation=autorisation,
    )


@transaction.atomic
def cloturer_d422(
    *, autorisation: AutorisationD422, auteur, date_operation: datetime.date | None = None
) -> Ecriture | None:
    """After the expense: the remainder is split or returned, as the detainee chose."""
    compte = _verrouiller(CompteNominatif.objects.get(detenu_id=autorisation.detenu_id).pk)
    autorisation = _verrouiller_d422(autorisation)
    verifier_droits(
        auteur, compte.detenu.etablissement, "regie.passer_ecriture", "passer une écriture"
    )
    if autorisation.statut != StatutD422.AUTORISEE:
        raise OperationInterdite("Seule une autorisation en cours peut être clôturée.")
    ecriture = _solder_bloque(
        autorisation,
        compte,
        choix=autorisation.reliquat,
        auteur=auteur,
        motif=f"Reliquat de l'autorisation D.422 n° {autorisation.pk} "
        f"({autorisation.get_reliquat_display().lower()})",
        date_operation=date_operation,
    )
    autorisation.statut = StatutD422.CLOTUREE
    autorisation.save(update_fields=["statut"])
    _journal_d422(
        autorisation,
        auteur,
        ActionD422.CLOTURE,
        f"Reliquat : {euros(ecriture.montant if ecriture else ZERO)}",
    )
    return ecriture


@transaction.atomic
def renoncer_d422(
    *,
    autorisation: AutorisationD422,
    auteur,
    motif: str,
    choix_reliquat: str | None = None,
    date_operation: datetime.date | None = None,
) -> Ecriture | None:
    """Section 5.5: the detainee renounces, before or after the money arrived; money already
    received is split or returned to the sender, as chosen."""
    compte = _verrouiller(CompteNominatif.objects.get(detenu_id=autorisation.detenu_id).pk)
    autorisation = _verrouiller_d422(autorisation)
    verifier_droits(
        auteur, compte.detenu.etablissement, "regie.passer_ecriture", "passer une écriture"
    )
    if autorisation.statut not in (StatutD422.DEMANDEE, StatutD422.AUTORISEE):
        raise OperationInterdite("Cette demande n'est plus en cours.")
    if not motif.strip():
        raise OperationInterdite("Le motif de la renonciation est obligatoire.")
    ecriture = _solder_bloque(
        autorisation,
        compte,
        choix=choix_reliquat or autorisation.reliquat,
        auteur=auteur,
        motif=f"Renonciation à l'autorisation D.422 n° {autorisation.pk} : {motif.strip()}",
        date_operation=date_operation,
    )
    autorisation.statut = StatutD422.RENONCEE
    autorisation.save(update_fields=["statut"])
    _journal_d422(autorisation, auteur, ActionD422.RENONCIATION, motif.strip())
    return ecriture


# --- Transfer between prisons (R. 332-29) ---------------------------------------------


def _lignes_du_solde(compte: CompteNominatif, signe: int) -> list[Ligne]:
    """One line per part holding money (blocked sums per authorisation), times `signe`."""
    lignes = [
        Ligne(Partie.PARTIES_CIVILES, signe * compte.parties_civiles),
        Ligne(Partie.PECULE_LIBERATION, signe * compte.pecule_liberation),
        Ligne(Partie.PART_DISPONIBLE, signe * compte.part_disponible_libre),
    ]
    blocages = (
        LigneEcriture.objects.filter(ecriture__compte=compte, bloque_d422__isnull=False)
        .values("bloque_d422")
        .annotate(total=Sum("montant"))
        .filter(total__gt=0)
    )
    autorisations = AutorisationD422.objects.in_bulk([b["bloque_d422"] for b in blocages])
    lignes += [
        Ligne(Partie.PART_DISPONIBLE, signe * b["total"], bloque=autorisations[b["bloque_d422"]])
        for b in blocages
    ]
    return [ligne for ligne in lignes if ligne.montant]


@transaction.atomic
def transferer_detenu(
    *,
    detenu: Detenu,
    vers: Etablissement,
    nouveau_numero_ecrou: str,
    auteur,
    date_operation: datetime.date | None = None,
) -> tuple[Ecriture | None, Ecriture | None]:
    """Send each part's balance to the new régie and credit it there, unsplit; the D.422
    authorisations and their blocked sums follow the detainee."""
    compte = _verrouiller(detenu.compte.pk)
    detenu = compte.detenu
    origine = detenu.etablissement
    verifier_droits(auteur, origine, "regie.passer_ecriture", "transférer une personne détenue")
    _compte_actif(compte)
    if vers.pk == origine.pk:
        raise OperationInterdite("La personne détenue est déjà dans cet établissement.")
    if Detenu.objects.filter(etablissement=vers, numero_ecrou=nouveau_numero_ecrou).exists():
        raise OperationInterdite(
            "Ce numéro d'écrou existe déjà dans l'établissement de destination."
        )
    jour = date_operation or aujourdhui()
    total = compte.total
    reference = f"transfert:{detenu.pk}:{origine.pk}-{vers.pk}:{timezone.now().isoformat()}"
    sortie = entree = None
    if total > 0:
        sortie = _passer(
            compte,
            nature=NatureEcriture.TRANSFERT_SORTANT,
            source=f"{reference}:sortie",
            motif=f"Transfert vers {vers.nom}",
            lignes=[
                *_lignes_du_solde(compte, -1),
                Ligne(Partie.CONTREPARTIE, total, Contrepartie.ETABLISSEMENT),
            ],
            auteur=auteur,
            auteur_systeme="",
            date_operation=jour,
            etablissement=origine,
        )
        entree = _passer(
            compte,
            nature=NatureEcriture.TRANSFERT_ENTRANT,
            source=f"{reference}:entree",
            motif=f"Solde reçu de {origine.nom}",
            lignes=[
                *_lignes_du_solde_transfere(sortie),
                Ligne(Partie.CONTREPARTIE, -total, Contrepartie.ETABLISSEMENT),
            ],
            auteur=auteur,
            auteur_systeme="",
            date_operation=jour,
            etablissement=vers,
        )
    detenu.etablissement = vers
    detenu.numero_ecrou = nouveau_numero_ecrou
    detenu.save(update_fields=["etablissement", "numero_ecrou"])
    for autorisation in AutorisationD422.objects.select_for_update().filter(
        detenu=detenu, statut__in=[StatutD422.DEMANDEE, StatutD422.AUTORISEE]
    ):
        autorisation.etablissement = vers
        autorisation.save(update_fields=["etablissement"])
        _journal_d422(
            autorisation, auteur, ActionD422.TRANSFERT, f"De {origine.nom} vers {vers.nom}"
        )
    return sortie, entree


def _lignes_du_solde_transfere(sortie: Ecriture) -> list[Ligne]:
    return [
        Ligne(ligne.partie, -ligne.montant, bloque=ligne.bloque_d422)
        for ligne in sortie.lignes.select_related("bloque_d422")
        if ligne.partie != Partie.CONTREPARTIE
    ]


# --- Release (D. 332-21) --------------------------------------------------------------


class SortPartiesCiviles:
    FGTI = "fgti"
    CONSERVER = "conserver"
    REMETTRE = "remettre"


@transaction.atomic
def liquider_a_la_liberation(
    *,
    compte: CompteNominatif,
    auteur,
    date_liberation: datetime.date,
    sort_parties_civiles: str = SortPartiesCiviles.CONSERVER,
) -> Ecriture | None:
    """Hand over the part disponible and the pécule; part 1 goes to the FGTI when above
    500 €, stays on the account for the creditors, or is handed over when no victim nor
    creditor has a claim (ceiling conditions b and c). See docs/regles-metier.md."""
    compte = _verrouiller(compte.pk)
    detenu = compte.detenu
    verifier_droits(auteur, detenu.etablissement, "regie.passer_ecriture", "liquider un compte")
    _compte_actif(compte)
    if compte.part_disponible_bloquee > 0:
        raise OperationInterdite(
            "Des sommes D.422 sont encore bloquées : clôturez ou renoncez d'abord aux autorisations."
        )
    p1 = compte.parties_civiles
    if sort_parties_civiles == SortPartiesCiviles.FGTI and p1 <= SEUIL_FGTI:
        raise OperationInterdite(
            f"La part des parties civiles ({euros(p1)}) ne dépasse pas 500 € : "
            "elle n'est pas versée au FGTI."
        )
    if (
        sort_parties_civiles == SortPartiesCiviles.REMETTRE
        and p1 > 0
        and not (
            detenu.victimes_indemnisees_ou_absentes and not detenu.creance_alimentaire_executoire
        )
    ):
        raise OperationInterdite(
            "La part des parties civiles ne peut être remise : des victimes ou des créanciers "
            "d'aliments ont des droits."
        )
    lignes = [
        Ligne(Partie.PART_DISPONIBLE, -compte.part_disponible),
        Ligne(Partie.PECULE_LIBERATION, -compte.pecule_liberation),
        Ligne(
            Partie.CONTREPARTIE,
            compte.part_disponible + compte.pecule_liberation,
            Contrepartie.DETENU,
        ),
    ]
    if p1 and sort_parties_civiles == SortPartiesCiviles.FGTI:
        lignes += [
            Ligne(Partie.PARTIES_CIVILES, -p1),
            Ligne(Partie.CONTREPARTIE, p1, Contrepartie.FGTI),
        ]
    elif p1 and sort_parties_civiles == SortPartiesCiviles.REMETTRE:
        lignes += [
            Ligne(Partie.PARTIES_CIVILES, -p1),
            Ligne(Partie.CONTREPARTIE, p1, Contrepartie.DETENU),
        ]
    ecriture = None
    if any(ligne.montant for ligne in lignes):
        ecriture = _passer(
            compte,
            nature=NatureEcriture.LIBERATION,
            source=f"liberation:{detenu.pk}:{date_liberation.isoformat()}",
            motif=f"Liquidation du compte à la libération du {date_liberation:%d/%m/%Y}",
            lignes=lignes,
            auteur=auteur,
            auteur_systeme="",
            date_operation=date_liberation,
        )
    detenu.libere_le = date_liberation
    detenu.save(update_fields=["libere_le"])
    if compte.total == 0:
        compte.cloture_le = timezone.now()
        compte.save(update_fields=["cloture_le"])
    return ecriture


# --- Corrections ----------------------------------------------------------------------


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
    """Refund (cancelled canteen order, …) back to the part the debit came from."""
    montant = montant_valide(montant)
    compte = _verrouiller(ecriture.compte_id)
    verifier_droits(
        auteur, compte.detenu.etablissement, "regie.passer_ecriture", "passer une écriture"
    )
    if ecriture.nature not in CONTREPARTIE_DES_DEBITS:
        raise OperationInterdite("Seul un débit de la part disponible peut être remboursé.")
    if hasattr(ecriture, "contrepassee_par"):
        raise OperationInterdite("Cette écriture a été contre-passée.")
    deja = ecriture.remboursements.aggregate(total=Sum("montant"))["total"] or ZERO
    if montant > ecriture.montant - deja:
        raise OperationInterdite(
            f"Le remboursement dépasse le débit d'origine : {euros(ecriture.montant - deja)} "
            "remboursables."
        )
    return _passer(
        compte,
        nature=NatureEcriture.REMBOURSEMENT,
        source=source,
        motif=motif,
        lignes=[
            Ligne(Partie.PART_DISPONIBLE, montant),
            Ligne(Partie.CONTREPARTIE, -montant, CONTREPARTIE_DES_DEBITS[ecriture.nature]),
        ],
        auteur=auteur,
        auteur_systeme=auteur_systeme,
        date_operation=date_operation or aujourdhui(),
        rembourse=ecriture,
    )


@transaction.atomic
def contrepasser(
    *, ecriture: Ecriture, motif: str, auteur=None, auteur_systeme: str = ""
) -> Ecriture:
    """Cancel an entry by a new, reversing one (same lines, opposite signs). A subject
    receipt's reversal also takes it out of its month's counter."""
    compte = _verrouiller(ecriture.compte_id)
    verifier_droits(
        auteur, compte.detenu.etablissement, "regie.passer_ecriture", "contre-passer une écriture"
    )
    if ecriture.nature not in NATURES_CONTREPASSABLES:
        raise OperationInterdite(
            f"Une écriture « {ecriture.get_nature_display()} » ne peut pas être contre-passée ; "
            "utilisez l'opération prévue."
        )
    if ecriture.remboursements.exists():
        raise OperationInterdite("Cette écriture a déjà fait l'objet d'un remboursement.")
    return _passer(
        compte,
        nature=NatureEcriture.CONTREPASSATION,
        source=f"contrepassation:{ecriture.pk}",
        motif=motif,
        lignes=[
            Ligne(ligne.partie, -ligne.montant, ligne.contrepartie, ligne.bloque_d422)
            for ligne in ecriture.lignes.select_related("bloque_d422")
        ],
        auteur=auteur,
        auteur_systeme=auteur_systeme,
        date_operation=aujourdhui(),
        montant_soumis=-ecriture.montant_soumis,
        mois_repartition=ecriture.mois_repartition,
        emetteur=ecriture.emetteur,
        contrepasse=ecriture,
    )
