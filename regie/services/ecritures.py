"""The posting primitive every movement goes through, and what all movements share: input
checks, rights, the account lock, the month's counter, the natures of entries. Opening an
account (`ecrouer`) is here too."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import F, Sum

from socle.dates import aujourdhui
from socle.formats import euros

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
)
from ..repartition import Situation, repartir

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
