"""Release (D. 332-21, D. 332-22, L. 332-2): the account is liquidated."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import models, transaction
from django.utils import timezone

from socle.formats import euros

from ..exceptions import (
    OperationInterdite,
)
from ..models import (
    CompteNominatif,
    Contrepartie,
    Ecriture,
    NatureEcriture,
    NatureOrdre,
    Partie,
)
from .ecritures import (
    Ligne,
    _compte_actif,
    _passer,
    _verrouiller,
    verifier_droits,
)
from .ordres import beneficiaire_par_defaut, beneficiaire_valide, preparer_ordre

# D. 332-22: unclaimed part 1 above this amount goes to the victims' fund.
SEUIL_FGTI = Decimal("500.00")


class SortPartiesCiviles(models.TextChoices):
    FGTI = "fgti", "Versée au Fonds de garantie des victimes (FGTI)"
    REMETTRE = "remettre", "Remise à la personne libérée"
    CONSERVER = "conserver", "Conservée pour le créancier d'aliments"


class ModeRemise(models.TextChoices):
    NUMERAIRE = "numeraire", "En numéraire, au greffe"
    VIREMENT = "virement", "Par virement sur le compte de la personne"


def sort_parties_civiles_propose(compte: CompteNominatif) -> str:
    """What the texts give part 1 at release (D. 332-22, L. 332-2), proposed to the
    régisseur who confirms it: kept for a maintenance creditor who holds an enforceable
    title; handed over when no victim has a claim; to the FGTI above 500 € when victims
    are not compensated; handed over at or below 500 € (the texts are silent: the person
    receives what the liquidation leaves, D. 332-21)."""
    detenu = compte.detenu
    if compte.parties_civiles and detenu.creance_alimentaire_executoire:
        return SortPartiesCiviles.CONSERVER
    if detenu.victimes_indemnisees_ou_absentes or compte.parties_civiles <= SEUIL_FGTI:
        return SortPartiesCiviles.REMETTRE
    return SortPartiesCiviles.FGTI


def _sort_autorise(compte: CompteNominatif, sort: str) -> None:
    detenu, p1 = compte.detenu, compte.parties_civiles
    if sort not in SortPartiesCiviles.values:
        raise OperationInterdite("Choisissez le sort de la part des parties civiles.")
    if not p1:
        return
    if sort == SortPartiesCiviles.CONSERVER and not detenu.creance_alimentaire_executoire:
        raise OperationInterdite(
            "La part des parties civiles n'est conservée que pour un créancier d'aliments "
            "titulaire d'un titre exécutoire ; le compte est liquidé à la libération."
        )
    if sort != SortPartiesCiviles.CONSERVER and detenu.creance_alimentaire_executoire:
        raise OperationInterdite(
            "Un créancier d'aliments titulaire d'un titre exécutoire a des droits sur la part "
            "des parties civiles (L. 332-2) : elle est conservée pour lui."
        )
    if sort == SortPartiesCiviles.FGTI:
        if detenu.victimes_indemnisees_ou_absentes:
            raise OperationInterdite(
                "Aucune victime n'a de créance : la part des parties civiles n'est pas versée "
                "au FGTI."
            )
        if p1 <= SEUIL_FGTI:
            raise OperationInterdite(
                f"La part des parties civiles ({euros(p1)}) ne dépasse pas {euros(SEUIL_FGTI)} "
                ": elle n'est pas versée au FGTI (D. 332-22)."
            )
    if sort == SortPartiesCiviles.REMETTRE and not (
        detenu.victimes_indemnisees_ou_absentes or p1 <= SEUIL_FGTI
    ):
        raise OperationInterdite(
            f"La part des parties civiles ({euros(p1)}) dépasse {euros(SEUIL_FGTI)} et des "
            "victimes ne sont pas indemnisées : elle est versée au FGTI (D. 332-22)."
        )


@transaction.atomic
def liquider_a_la_liberation(
    *,
    compte: CompteNominatif,
    auteur,
    date_liberation: datetime.date,
    sort_parties_civiles: str | None = None,
    mode_remise: str = ModeRemise.NUMERAIRE,
    beneficiaire: str = "",
    iban: str = "",
    bic: str = "",
    fgti_nom: str = "",
    fgti_iban: str = "",
    fgti_bic: str = "",
) -> Ecriture | None:
    """D. 332-21: the account is liquidated. The part disponible and the pécule (and part
    1 when it is handed over) go to the person, in cash or by a payment order to their
    account; part 1 goes to the FGTI by a payment order, or stays for a maintenance
    creditor (`sort_parties_civiles`, by default what the texts give:
    `sort_parties_civiles_propose`). A released person's account that still holds money
    (a payment that failed) can be liquidated again."""
    compte = _verrouiller(compte.pk)
    detenu = compte.detenu
    verifier_droits(auteur, detenu.etablissement, "regie.passer_ecriture", "liquider un compte")
    deja_libere = detenu.libere_le is not None
    if deja_libere and compte.total == 0:
        _compte_actif(compte)
    if compte.part_disponible_bloquee > 0:
        raise OperationInterdite(
            "Des sommes D.422 sont encore bloquées : clôturez ou renoncez d'abord aux autorisations."
        )
    sort = sort_parties_civiles or sort_parties_civiles_propose(compte)
    _sort_autorise(compte, sort)
    if mode_remise not in ModeRemise.values:
        raise OperationInterdite("Choisissez comment la somme est remise à la personne.")
    p1 = compte.parties_civiles
    a_la_personne = compte.part_disponible + compte.pecule_liberation
    if sort == SortPartiesCiviles.REMETTRE:
        a_la_personne += p1
    vers_la_personne = vers_le_fgti = None
    if a_la_personne and mode_remise == ModeRemise.VIREMENT:
        vers_la_personne = beneficiaire_valide(
            beneficiaire or f"{detenu.prenoms} {detenu.nom}", iban, bic
        )
    if p1 and sort == SortPartiesCiviles.FGTI:
        vers_le_fgti = beneficiaire_par_defaut("FGTI", fgti_nom, fgti_iban, fgti_bic)
    contrepartie_personne = (
        Contrepartie.EXTERIEUR if vers_la_personne is not None else Contrepartie.DETENU
    )
    lignes = [
        Ligne(Partie.PART_DISPONIBLE, -compte.part_disponible),
        Ligne(Partie.PECULE_LIBERATION, -compte.pecule_liberation),
    ]
    if p1 and sort == SortPartiesCiviles.REMETTRE:
        lignes.append(Ligne(Partie.PARTIES_CIVILES, -p1))
    lignes.append(Ligne(Partie.CONTREPARTIE, a_la_personne, contrepartie_personne))
    if vers_le_fgti is not None:
        lignes += [
            Ligne(Partie.PARTIES_CIVILES, -p1),
            Ligne(Partie.CONTREPARTIE, p1, Contrepartie.FGTI),
        ]
    ecriture = None
    if any(ligne.montant for ligne in lignes):
        rang = compte.ecritures.filter(nature=NatureEcriture.LIBERATION).count()
        ecriture = _passer(
            compte,
            nature=NatureEcriture.LIBERATION,
            source=f"liberation:{detenu.pk}:{date_liberation.isoformat()}"
            + (f":{rang + 1}" if rang else ""),
            motif=f"Liquidation du compte à la libération du {date_liberation:%d/%m/%Y}",
            lignes=lignes,
            auteur=auteur,
            auteur_systeme="",
            date_operation=date_liberation,
            autoriser_compte_cloture=deja_libere,
        )
        commun = {
            "auteur": auteur,
            "etablissement": detenu.etablissement,
            "compte": compte,
            "ecriture": ecriture,
        }
        if vers_la_personne is not None and a_la_personne:
            preparer_ordre(
                nature=NatureOrdre.LIBERATION,
                beneficiaire=vers_la_personne,
                montant=a_la_personne,
                libelle=f"LIBERATION {detenu.nom} {detenu.prenoms} ECROU {detenu.numero_ecrou}",
                source=f"ecriture:{ecriture.pk}:personne",
                partie=Partie.PART_DISPONIBLE,
                contrepartie=Contrepartie.EXTERIEUR,
                **commun,
            )
        if vers_le_fgti is not None:
            preparer_ordre(
                nature=NatureOrdre.FGTI,
                beneficiaire=vers_le_fgti,
                montant=p1,
                libelle=f"D332-22 {detenu.nom} {detenu.prenoms} ECROU {detenu.numero_ecrou}",
                source=f"ecriture:{ecriture.pk}:fgti",
                partie=Partie.PARTIES_CIVILES,
                contrepartie=Contrepartie.FGTI,
                **commun,
            )
    if not deja_libere:
        detenu.libere_le = date_liberation
        detenu.save(update_fields=["libere_le"])
    if compte.total == 0:
        compte.cloture_le = timezone.now()
        compte.save(update_fields=["cloture_le"])
    return ecriture
