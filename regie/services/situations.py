"""The statuses of the écrou and the money they move (issue 12; docs/regles-metier.md):

- suspension or fractionnement of the sentence (D. 332-24): only the part disponible is
  handed over; parts 1 and 2 stay until the end of the sentence; the return under écrou
  continues the same account;
- death (D. 332-8): the account is kept for the heirs; after three years, what is
  unclaimed goes to the Trésor;
- escape (L. 332-4, D. 332-8-1): the part disponible goes to the victims, the rest to the
  Trésor; after recapture, the DISP may restore it; after one year without recapture,
  the money left goes to the Trésor;
- contrainte judiciaire (D. 332-23): the usual répartition; on the detainee's request,
  the pécule then part 1 may pay the debt, when no victim nor maintenance creditor has
  a claim;
- the JAP's particular prescriptions on the part 1 levy (D. 424-1).

Each status is a field of `Detenu`, set here under the account lock, with its author and
date in `EvenementSituation`.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from socle.dates import aujourdhui
from socle.formats import euros

from ..exceptions import OperationInterdite, SoldeInsuffisant
from ..models import (
    ZERO,
    ActionSituation,
    CompteNominatif,
    Contrepartie,
    Detenu,
    Ecriture,
    EvenementSituation,
    LigneEcriture,
    NatureEcriture,
    NatureOrdre,
    Partie,
    PrescriptionJap,
    StatutPenal,
    TypePrescriptionJap,
    TypeSuspension,
)
from .ecritures import (
    EN_VIGUEUR,
    Ligne,
    _compte_actif,
    _passer,
    _source_libre,
    _verrouiller,
    montant_valide,
    pecule_sur_livret_a,
    verifier_droits,
)
from .ordres import beneficiaire_par_defaut, beneficiaire_valide, payer_ecriture

DROIT_SITUATION = "regie.enregistrer_situation"
DELAI_DECES_ANNEES = 3  # D. 332-8
DELAI_EVASION_ANNEES = 1  # L. 332-4 al. 2


def _journal(
    detenu: Detenu, auteur, action: str, date_effet: datetime.date, reference="", details=""
) -> EvenementSituation:
    return EvenementSituation.objects.create(
        detenu=detenu,
        auteur=auteur,
        action=action,
        date_effet=date_effet,
        reference=reference,
        details=details,
    )


def _requis(valeur: str, message: str) -> str:
    if not valeur or not valeur.strip():
        raise OperationInterdite(message)
    return valeur.strip()


def _ans_apres(jour: datetime.date, annees: int) -> datetime.date:
    try:
        return jour.replace(year=jour.year + annees)
    except ValueError:  # 29 February
        return jour.replace(year=jour.year + annees, day=28)


def _lignes_pecule(compte: CompteNominatif, montant: Decimal) -> list[Ligne]:
    """Debit lines of `montant` from the pécule: its share on the livret A comes back
    first within the same entry, so the whole pécule can leave in one movement."""
    hors_livret = compte.pecule_liberation - pecule_sur_livret_a(compte)
    lignes = [Ligne(Partie.PECULE_LIBERATION, -montant)]
    if montant > hors_livret:
        retour = montant - hors_livret
        lignes += [
            Ligne(Partie.PECULE_LIBERATION, -retour, livret=True),
            Ligne(Partie.PECULE_LIBERATION, retour),
        ]
    return lignes


def _verifier_aucun_bloque(compte: CompteNominatif) -> None:
    if compte.part_disponible_bloquee > 0:
        raise OperationInterdite(
            f"{euros(compte.part_disponible_bloquee)} sont bloqués pour une autorisation D.422 : "
            "clôturez-la ou enregistrez la renonciation d'abord."
        )


# --- Suspension and fractionnement (D. 332-24) ------------------------------------------


@transaction.atomic
def suspendre_peine(
    *,
    detenu: Detenu,
    type_suspension: str,
    date_debut: datetime.date,
    decision: str,
    auteur,
    remettre_part_disponible: bool = True,
    source: str | None = None,
) -> Ecriture | None:
    """Record a suspension or fractionnement: the person is handed the free part
    disponible only (one entry); parts 1 and 2, and the blocked D.422 sums, stay on the
    account until the end of the sentence."""
    compte = _verrouiller(detenu.compte.pk)
    detenu = compte.detenu
    verifier_droits(auteur, detenu.etablissement, DROIT_SITUATION, "suspendre une peine")
    _compte_actif(compte)
    if type_suspension not in TypeSuspension.values:
        raise OperationInterdite("Choisissez le type de suspension.")
    decision = _requis(decision, "La référence de la décision est obligatoire.")
    if detenu.statut_penal == StatutPenal.PREVENU:
        raise OperationInterdite("Une suspension de peine ne concerne qu'une personne condamnée.")
    if detenu.suspension:
        raise OperationInterdite(
            f"La peine est déjà suspendue depuis le {detenu.suspension_depuis:%d/%m/%Y}."
        )
    ecriture = None
    if remettre_part_disponible and compte.part_disponible_libre > 0:
        verifier_droits(
            auteur, detenu.etablissement, "regie.passer_ecriture", "passer une écriture"
        )
        libre = compte.part_disponible_libre
        ecriture = _passer(
            compte,
            nature=NatureEcriture.REMISE_SUSPENSION,
            source=source or f"suspension:{detenu.pk}:{date_debut.isoformat()}",
            motif=f"{TypeSuspension(type_suspension).label} ({decision}) : remise de la part "
            "disponible ; les parts des parties civiles et du pécule restent jusqu'à la fin "
            "de la peine (D. 332-24).",
            lignes=[
                Ligne(Partie.PART_DISPONIBLE, -libre),
                Ligne(Partie.CONTREPARTIE, libre, Contrepartie.DETENU),
            ],
            auteur=auteur,
            auteur_systeme="",
            date_operation=date_debut,
            piece=decision,
        )
    detenu.suspension = type_suspension
    detenu.suspension_depuis = date_debut
    detenu.suspension_decision = decision
    detenu.save(update_fields=["suspension", "suspension_depuis", "suspension_decision"])
    _journal(
        detenu,
        auteur,
        ActionSituation.SUSPENSION,
        date_debut,
        decision,
        TypeSuspension(type_suspension).label
        + (f" ; part disponible remise : {euros(ecriture.montant)}" if ecriture else ""),
    )
    return ecriture


@transaction.atomic
def mettre_fin_suspension(
    *,
    detenu: Detenu,
    date_retour: datetime.date,
    auteur,
    reference: str = "",
    nouveau_numero_ecrou: str = "",
) -> Detenu:
    """The return under écrou (écrou simplifié) continues the same account: balances, the
    month's counter and the D.422 authorisations are those left at the suspension."""
    compte = _verrouiller(detenu.compte.pk)
    detenu = compte.detenu
    verifier_droits(auteur, detenu.etablissement, DROIT_SITUATION, "enregistrer le retour")
    if not detenu.suspension:
        raise OperationInterdite("La peine de cette personne n'est pas suspendue.")
    if date_retour < detenu.suspension_depuis:
        raise OperationInterdite("Le retour ne peut précéder le début de la suspension.")
    champs = ["suspension", "suspension_depuis", "suspension_decision"]
    details = f"Suspendue du {detenu.suspension_depuis:%d/%m/%Y} ({detenu.suspension_decision})"
    if nouveau_numero_ecrou.strip() and nouveau_numero_ecrou.strip() != detenu.numero_ecrou:
        if Detenu.objects.filter(
            etablissement=detenu.etablissement, numero_ecrou=nouveau_numero_ecrou.strip()
        ).exists():
            raise OperationInterdite("Ce numéro d'écrou existe déjà dans cet établissement.")
        details += f" ; écrou {detenu.numero_ecrou} → {nouveau_numero_ecrou.strip()}"
        detenu.numero_ecrou = nouveau_numero_ecrou.strip()
        champs.append("numero_ecrou")
    detenu.suspension = ""
    detenu.suspension_depuis = None
    detenu.suspension_decision = ""
    detenu.save(update_fields=champs)
    _journal(detenu, auteur, ActionSituation.FIN_SUSPENSION, date_retour, reference, details)
    return detenu


# --- Death (D. 332-8) ---------------------------------------------------------------------


@transaction.atomic
def constater_deces(*, detenu: Detenu, date_deces: datetime.date, auteur, reference: str) -> Detenu:
    """The account is kept, unchanged, for the heirs (ayants droit)."""
    compte = _verrouiller(detenu.compte.pk)
    detenu = compte.detenu
    verifier_droits(auteur, detenu.etablissement, DROIT_SITUATION, "enregistrer un décès")
    reference = _requis(reference, "La référence de l'acte de décès est obligatoire.")
    if detenu.decede_le is not None:
        raise OperationInterdite("Le décès est déjà enregistré.")
    if detenu.libere_le is not None:
        raise OperationInterdite("Cette personne a été libérée : son compte est liquidé.")
    detenu.decede_le = date_deces
    detenu.save(update_fields=["decede_le"])
    _journal(detenu, auteur, ActionSituation.DECES, date_deces, reference)
    return detenu


def _remise_integrale(
    compte: CompteNominatif,
    *,
    contrepartie: str,
    avec_parties_civiles: bool,
) -> list[Ligne]:
    lignes = []
    total = ZERO
    if compte.part_disponible_libre > 0:
        lignes.append(Ligne(Partie.PART_DISPONIBLE, -compte.part_disponible_libre))
        total += compte.part_disponible_libre
    if compte.pecule_liberation > 0:
        lignes += _lignes_pecule(compte, compte.pecule_liberation)
        total += compte.pecule_liberation
    if avec_parties_civiles and compte.parties_civiles > 0:
        lignes.append(Ligne(Partie.PARTIES_CIVILES, -compte.parties_civiles))
        total += compte.parties_civiles
    if total:
        lignes.append(Ligne(Partie.CONTREPARTIE, total, contrepartie))
    return lignes


def _payer_le_tresor(ecriture, tresor, auteur, objet: str, *, montant=None, partie="") -> None:
    detenu = ecriture.compte.detenu
    payer_ecriture(
        ecriture,
        nature=NatureOrdre.TRESOR,
        beneficiaire=tresor,
        auteur=auteur,
        libelle=f"{objet} {detenu.nom} {detenu.prenoms} ECROU {detenu.numero_ecrou}",
        contrepartie=Contrepartie.TRESOR,
        montant=montant,
        partie=partie,
    )


def _cloturer_si_vide(compte: CompteNominatif) -> None:
    compte.refresh_from_db(fields=["parties_civiles", "pecule_liberation", "part_disponible"])
    if compte.total == 0 and compte.cloture_le is None:
        compte.cloture_le = timezone.now()
        compte.save(update_fields=["cloture_le"])


@transaction.atomic
def remettre_aux_ayants_droit(
    *,
    compte: CompteNominatif,
    beneficiaire: str,
    piece: str,
    auteur,
    source: str,
    iban: str,
    bic: str = "",
    date_operation: datetime.date | None = None,
) -> Ecriture:
    """Hand the part disponible and the pécule to the heirs, on the document that shows
    their rights (the `piece`), by a payment order to the account it names (the heirs'
    or the notary's). Part 1 stays for the victims and maintenance creditors, unless none
    has a claim (as at release, D. 332-21)."""
    compte = _verrouiller(compte.pk)
    detenu = compte.detenu
    verifier_droits(auteur, detenu.etablissement, "regie.passer_ecriture", "passer une écriture")
    if detenu.decede_le is None:
        raise OperationInterdite("Le décès de cette personne n'est pas enregistré.")
    beneficiaire = _requis(beneficiaire, "Les ayants droit sont obligatoires.")
    piece = _requis(piece, "La pièce établissant la qualité d'ayant droit est obligatoire.")
    destinataire = beneficiaire_valide(beneficiaire[:70], iban, bic)
    _verifier_aucun_bloque(compte)
    sans_creancier = (
        detenu.victimes_indemnisees_ou_absentes and not detenu.creance_alimentaire_executoire
    )
    lignes = _remise_integrale(
        compte, contrepartie=Contrepartie.AYANTS_DROIT, avec_parties_civiles=sans_creancier
    )
    if not lignes:
        raise OperationInterdite("Il n'y a rien à remettre aux ayants droit.")
    ecriture = _passer(
        compte,
        nature=NatureEcriture.REMISE_AYANTS_DROIT,
        source=source,
        motif=f"Remise aux ayants droit : {beneficiaire}",
        lignes=lignes,
        auteur=auteur,
        auteur_systeme="",
        date_operation=date_operation or aujourdhui(),
        piece=piece,
    )
    payer_ecriture(
        ecriture,
        nature=NatureOrdre.AYANTS_DROIT,
        beneficiaire=destinataire,
        auteur=auteur,
        libelle=f"SUCCESSION {detenu.nom} {detenu.prenoms} {piece}",
        contrepartie=Contrepartie.AYANTS_DROIT,
        piece=piece,
    )
    _cloturer_si_vide(compte)
    return ecriture


@transaction.atomic
def verser_au_tresor_apres_deces(
    *,
    compte: CompteNominatif,
    auteur,
    source: str,
    date_operation: datetime.date | None = None,
    tresor_nom: str = "",
    tresor_iban: str = "",
    tresor_bic: str = "",
) -> Ecriture:
    """D. 332-8: three years after the death, the money the heirs have not claimed is
    paid to the Trésor (all three parts), by a payment order."""
    tresor = beneficiaire_par_defaut("TRESOR", tresor_nom, tresor_iban, tresor_bic)
    jour = date_operation or aujourdhui()
    compte = _verrouiller(compte.pk)
    detenu = compte.detenu
    verifier_droits(auteur, detenu.etablissement, "regie.passer_ecriture", "passer une écriture")
    if detenu.decede_le is None:
        raise OperationInterdite("Le décès de cette personne n'est pas enregistré.")
    echeance = _ans_apres(detenu.decede_le, DELAI_DECES_ANNEES)
    if jour < echeance:
        raise OperationInterdite(
            f"Les sommes non réclamées ne sont versées au Trésor que trois ans après le décès, "
            f"à partir du {echeance:%d/%m/%Y} (D. 332-8)."
        )
    _verifier_aucun_bloque(compte)
    lignes = _remise_integrale(compte, contrepartie=Contrepartie.TRESOR, avec_parties_civiles=True)
    if not lignes:
        raise OperationInterdite("Le compte est vide.")
    ecriture = _passer(
        compte,
        nature=NatureEcriture.VERSEMENT_TRESOR,
        source=source,
        motif="Sommes non réclamées trois ans après le décès : versées au Trésor (D. 332-8).",
        lignes=lignes,
        auteur=auteur,
        auteur_systeme="",
        date_operation=jour,
    )
    _payer_le_tresor(ecriture, tresor, auteur, "D332-8 DECES")
    _cloturer_si_vide(compte)
    return ecriture


# --- Escape (L. 332-4, D. 332-8-1) ----------------------------------------------------


@transaction.atomic
def constater_evasion(
    *,
    detenu: Detenu,
    date_evasion: datetime.date,
    reste_du_parties_civiles,
    auteur,
    reference: str,
    tresor_nom: str = "",
    tresor_iban: str = "",
    tresor_bic: str = "",
) -> Ecriture | None:
    """L. 332-4: the part disponible « est affectée d'office à l'indemnisation des parties
    civiles. Le reliquat est versé au Trésor ». The free part disponible goes to part 1
    up to what the victims and maintenance creditors are still owed beyond what part 1
    holds (`reste_du_parties_civiles`, from the prosecutor's information, D. 332-11); the
    rest is paid to the Trésor. One entry; the account is then stopped."""
    reste_du = (
        ZERO
        if reste_du_parties_civiles in (0, "0", ZERO, None)
        else montant_valide(reste_du_parties_civiles, libelle="Le reste dû aux parties civiles")
    )
    compte = _verrouiller(detenu.compte.pk)
    detenu = compte.detenu
    verifier_droits(auteur, detenu.etablissement, DROIT_SITUATION, "enregistrer une évasion")
    verifier_droits(auteur, detenu.etablissement, "regie.passer_ecriture", "passer une écriture")
    _compte_actif(compte)
    reference = _requis(reference, "La référence du compte rendu d'évasion est obligatoire.")
    if (
        reste_du
        and detenu.victimes_indemnisees_ou_absentes
        and not (detenu.creance_alimentaire_executoire)
    ):
        raise OperationInterdite(
            "Aucune partie civile ni aucun créancier d'aliments n'a de droit : le reste dû "
            "doit être nul."
        )
    libre = compte.part_disponible_libre
    aux_parties_civiles = min(libre, reste_du)
    au_tresor = libre - aux_parties_civiles
    tresor = (
        beneficiaire_par_defaut("TRESOR", tresor_nom, tresor_iban, tresor_bic)
        if au_tresor
        else None
    )
    ecriture = None
    if libre > 0:
        lignes = [
            Ligne(Partie.PART_DISPONIBLE, -libre),
            Ligne(Partie.PARTIES_CIVILES, aux_parties_civiles),
        ]
        if au_tresor:
            lignes.append(Ligne(Partie.CONTREPARTIE, au_tresor, Contrepartie.TRESOR))
        ecriture = _passer(
            compte,
            nature=NatureEcriture.EVASION,
            source=f"evasion:{detenu.pk}:{date_evasion.isoformat()}",
            motif=f"Évasion du {date_evasion:%d/%m/%Y} : {euros(aux_parties_civiles)} affectés "
            f"à l'indemnisation des parties civiles, {euros(au_tresor)} versés au Trésor "
            "(L. 332-4).",
            lignes=lignes,
            auteur=auteur,
            auteur_systeme="",
            date_operation=date_evasion,
            piece=reference,
        )
        if tresor is not None:
            _payer_le_tresor(
                ecriture,
                tresor,
                auteur,
                "L332-4 EVASION",
                montant=au_tresor,
                partie=Partie.PART_DISPONIBLE,
            )
    detenu.evade_le = date_evasion
    detenu.repris_le = None
    detenu.save(update_fields=["evade_le", "repris_le"])
    _journal(
        detenu,
        auteur,
        ActionSituation.EVASION,
        date_evasion,
        reference,
        f"Part disponible : {euros(aux_parties_civiles)} aux parties civiles, "
        f"{euros(au_tresor)} au Trésor",
    )
    return ecriture


@transaction.atomic
def constater_reprise(
    *, detenu: Detenu, date_reprise: datetime.date, auteur, reference: str
) -> Detenu:
    compte = _verrouiller(detenu.compte.pk)
    detenu = compte.detenu
    verifier_droits(auteur, detenu.etablissement, DROIT_SITUATION, "enregistrer une reprise")
    reference = _requis(reference, "La référence de la reprise est obligatoire.")
    if not detenu.est_evade:
        raise OperationInterdite("Aucune évasion en cours n'est enregistrée pour cette personne.")
    if date_reprise < detenu.evade_le:
        raise OperationInterdite("La reprise ne peut précéder l'évasion.")
    detenu.repris_le = date_reprise
    detenu.save(update_fields=["repris_le"])
    _journal(detenu, auteur, ActionSituation.REPRISE, date_reprise, reference)
    return detenu


def reliquat_evasion_retablissable(compte: CompteNominatif) -> Decimal:
    """What the last escape paid to the Trésor from the part disponible, less what was
    restored since (reversed entries excluded)."""
    evade_le = compte.detenu.evade_le
    if evade_le is None:
        return ZERO
    return (
        LigneEcriture.objects.filter(
            ecriture__compte=compte,
            ecriture__nature__in=[
                NatureEcriture.EVASION,
                NatureEcriture.RETABLISSEMENT_EVASION,
            ],
            ecriture__date_operation__gte=evade_le,
            ecriture__contrepassee_par__isnull=True,
            contrepartie=Contrepartie.TRESOR,
        ).aggregate(total=Sum("montant"))["total"]
        or ZERO
    )


@transaction.atomic
def retablir_apres_evasion(
    *,
    compte: CompteNominatif,
    montant,
    decision_disp: str,
    auteur,
    source: str,
    date_operation: datetime.date | None = None,
) -> Ecriture:
    """D. 332-8-1: after the recapture, the interregional director (DISP of the place of
    the escape) may decide that the remainder paid to the Trésor be restored, in whole or
    in part, to the part disponible."""
    montant = montant_valide(montant)
    compte = _verrouiller(compte.pk)
    detenu = compte.detenu
    verifier_droits(auteur, detenu.etablissement, "regie.passer_ecriture", "passer une écriture")
    decision_disp = _requis(
        decision_disp, "La décision du directeur interrégional est obligatoire."
    )
    if detenu.evade_le is None or detenu.repris_le is None:
        raise OperationInterdite(
            "Le rétablissement ne suit que la reprise d'une personne évadée (D. 332-8-1)."
        )
    reste = reliquat_evasion_retablissable(compte)
    if montant > reste:
        raise SoldeInsuffisant(
            f"Le rétablissement dépasse le reliquat versé au Trésor lors de l'évasion : "
            f"{euros(reste)} rétablissables.",
            partie=Partie.PART_DISPONIBLE,
            disponible=reste,
        )
    return _passer(
        compte,
        nature=NatureEcriture.RETABLISSEMENT_EVASION,
        source=source,
        motif=f"Rétablissement après la reprise du {detenu.repris_le:%d/%m/%Y}, décision du "
        f"directeur interrégional {decision_disp} (D. 332-8-1).",
        lignes=[
            Ligne(Partie.PART_DISPONIBLE, montant),
            Ligne(Partie.CONTREPARTIE, -montant, Contrepartie.TRESOR),
        ],
        auteur=auteur,
        auteur_systeme="",
        date_operation=date_operation or aujourdhui(),
        piece=decision_disp,
    )


@transaction.atomic
def verser_au_tresor_apres_evasion(
    *,
    compte: CompteNominatif,
    auteur,
    source: str,
    date_operation: datetime.date | None = None,
    tresor_nom: str = "",
    tresor_iban: str = "",
    tresor_bic: str = "",
) -> Ecriture:
    """L. 332-4 al. 2: one year after the escape, if the recapture has not been reported,
    « les valeurs pécuniaires sont versées au Trésor »: every part, read literally, by a
    payment order."""
    tresor = beneficiaire_par_defaut("TRESOR", tresor_nom, tresor_iban, tresor_bic)
    jour = date_operation or aujourdhui()
    compte = _verrouiller(compte.pk)
    detenu = compte.detenu
    verifier_droits(auteur, detenu.etablissement, "regie.passer_ecriture", "passer une écriture")
    if not detenu.est_evade:
        raise OperationInterdite("Aucune évasion en cours n'est enregistrée pour cette personne.")
    echeance = _ans_apres(detenu.evade_le, DELAI_EVASION_ANNEES)
    if jour < echeance:
        raise OperationInterdite(
            f"Les valeurs pécuniaires ne sont versées au Trésor qu'un an après l'évasion, "
            f"à partir du {echeance:%d/%m/%Y} (L. 332-4)."
        )
    _verifier_aucun_bloque(compte)
    lignes = _remise_integrale(compte, contrepartie=Contrepartie.TRESOR, avec_parties_civiles=True)
    if not lignes:
        raise OperationInterdite("Le compte est vide.")
    ecriture = _passer(
        compte,
        nature=NatureEcriture.VERSEMENT_TRESOR,
        source=source,
        motif="Un an après l'évasion sans reprise signalée : valeurs pécuniaires versées au "
        "Trésor (L. 332-4).",
        lignes=lignes,
        auteur=auteur,
        auteur_systeme="",
        date_operation=jour,
    )
    _payer_le_tresor(ecriture, tresor, auteur, "L332-4 EVASION")
    _cloturer_si_vide(compte)
    return ecriture


# --- Contrainte judiciaire (D. 332-23) ------------------------------------------------


@transaction.atomic
def placer_sous_contrainte_judiciaire(
    *, detenu: Detenu, date_debut: datetime.date, montant_dette, reference: str, auteur
) -> Detenu:
    montant_dette = montant_valide(montant_dette, libelle="Le montant de la dette")
    compte = _verrouiller(detenu.compte.pk)
    detenu = compte.detenu
    verifier_droits(
        auteur, detenu.etablissement, DROIT_SITUATION, "enregistrer une contrainte judiciaire"
    )
    _compte_actif(compte)
    reference = _requis(reference, "La référence de la décision est obligatoire.")
    if detenu.contrainte_judiciaire_depuis is not None:
        raise OperationInterdite("Une contrainte judiciaire est déjà enregistrée.")
    detenu.contrainte_judiciaire_depuis = date_debut
    detenu.contrainte_judiciaire_montant = montant_dette
    detenu.save(update_fields=["contrainte_judiciaire_depuis", "contrainte_judiciaire_montant"])
    _journal(
        detenu,
        auteur,
        ActionSituation.CONTRAINTE,
        date_debut,
        reference,
        f"Dette : {euros(montant_dette)}",
    )
    return detenu


def dette_contrainte_restante(compte: CompteNominatif) -> Decimal:
    detenu = compte.detenu
    if detenu.contrainte_judiciaire_depuis is None:
        return ZERO
    paye = (
        Ecriture.objects.filter(
            EN_VIGUEUR,
            compte=compte,
            nature=NatureEcriture.CONTRAINTE_JUDICIAIRE,
            date_operation__gte=detenu.contrainte_judiciaire_depuis,
        ).aggregate(total=Sum("montant"))["total"]
        or ZERO
    )
    return max(detenu.contrainte_judiciaire_montant - paye, ZERO)


@transaction.atomic
def payer_dette_contrainte_judiciaire(
    *,
    compte: CompteNominatif,
    montant,
    auteur,
    source: str,
    piece: str,
    date_operation: datetime.date | None = None,
    tresor_nom: str = "",
    tresor_iban: str = "",
    tresor_bic: str = "",
) -> Ecriture:
    """D. 332-23: on the detainee's written request (`piece`), the pécule then part 1 pay
    the debt, if the victims are fully compensated (or there are none) and no maintenance
    creditor holds an enforceable title. The head decides, as for any use of the pécule
    during detention. The Trésor is paid by a payment order."""
    montant = montant_valide(montant)
    tresor = beneficiaire_par_defaut("TRESOR", tresor_nom, tresor_iban, tresor_bic)
    compte = _verrouiller(compte.pk)
    detenu = compte.detenu
    verifier_droits(
        auteur,
        detenu.etablissement,
        "regie.decider_deblocage_pecule",
        "affecter le pécule au paiement d'une contrainte judiciaire",
    )
    _compte_actif(compte)
    piece = _requis(piece, "La demande écrite de la personne détenue est obligatoire.")
    if detenu.contrainte_judiciaire_depuis is None:
        raise OperationInterdite("Aucune contrainte judiciaire n'est enregistrée.")
    if not detenu.victimes_indemnisees_ou_absentes:
        raise OperationInterdite(
            "Les parties civiles ne sont pas entièrement indemnisées : le pécule et la part "
            "des parties civiles ne peuvent pas payer la dette (D. 332-23, 1°)."
        )
    if detenu.creance_alimentaire_executoire:
        raise OperationInterdite(
            "Un créancier d'aliments s'est prévalu d'un titre exécutoire : le pécule et la "
            "part des parties civiles ne peuvent pas payer la dette (D. 332-23, 2°)."
        )
    reste = dette_contrainte_restante(compte)
    if montant > reste:
        raise OperationInterdite(f"Le paiement dépasse la dette restante : {euros(reste)}.")
    disponible = compte.pecule_liberation + compte.parties_civiles
    if montant > disponible:
        raise SoldeInsuffisant(
            f"Le pécule et la part des parties civiles ne contiennent que {euros(disponible)}.",
            partie=Partie.PECULE_LIBERATION,
            disponible=disponible,
        )
    du_pecule = min(montant, compte.pecule_liberation)
    lignes = _lignes_pecule(compte, du_pecule) if du_pecule else []
    if montant > du_pecule:
        lignes.append(Ligne(Partie.PARTIES_CIVILES, -(montant - du_pecule)))
    lignes.append(Ligne(Partie.CONTREPARTIE, montant, Contrepartie.TRESOR))
    ecriture = _passer(
        compte,
        nature=NatureEcriture.CONTRAINTE_JUDICIAIRE,
        source=source,
        motif=f"Paiement de la dette objet de la contrainte judiciaire : {euros(du_pecule)} du "
        f"pécule, {euros(montant - du_pecule)} de la part des parties civiles (D. 332-23).",
        lignes=lignes,
        auteur=auteur,
        auteur_systeme="",
        date_operation=date_operation or aujourdhui(),
        piece=piece,
    )
    _payer_le_tresor(ecriture, tresor, auteur, f"D332-23 CONTRAINTE {piece}")
    return ecriture


@transaction.atomic
def lever_contrainte_judiciaire(
    *, detenu: Detenu, date_fin: datetime.date, auteur, reference: str
) -> Detenu:
    compte = _verrouiller(detenu.compte.pk)
    detenu = compte.detenu
    verifier_droits(
        auteur, detenu.etablissement, DROIT_SITUATION, "lever une contrainte judiciaire"
    )
    reference = _requis(reference, "La référence est obligatoire.")
    if detenu.contrainte_judiciaire_depuis is None:
        raise OperationInterdite("Aucune contrainte judiciaire n'est enregistrée.")
    details = (
        f"Depuis le {detenu.contrainte_judiciaire_depuis:%d/%m/%Y}, dette de "
        f"{euros(detenu.contrainte_judiciaire_montant)}, restant due "
        f"{euros(dette_contrainte_restante(compte))}"
    )
    detenu.contrainte_judiciaire_depuis = None
    detenu.contrainte_judiciaire_montant = None
    detenu.save(update_fields=["contrainte_judiciaire_depuis", "contrainte_judiciaire_montant"])
    _journal(detenu, auteur, ActionSituation.FIN_CONTRAINTE, date_fin, reference, details)
    return detenu


# --- The JAP's particular prescriptions (D. 424-1) --------------------------------------


@transaction.atomic
def enregistrer_prescription_jap(
    *,
    detenu: Detenu,
    type_prescription: str,
    reference: str,
    date_decision: datetime.date,
    debut: datetime.date,
    auteur,
    fin: datetime.date | None = None,
    proportion=None,
    plafond_mensuel=None,
    source: str | None = None,
) -> PrescriptionJap:
    """Record a JAP decision on the part 1 levy. It applies only while the detainee is
    under a regime without pécule (D. 424-1); the receipts already split are not split
    again."""
    compte = _verrouiller(detenu.compte.pk)
    detenu = compte.detenu
    verifier_droits(
        auteur, detenu.etablissement, DROIT_SITUATION, "enregistrer une prescription du JAP"
    )
    reference = _requis(reference, "La référence de la décision du JAP est obligatoire.")
    if type_prescription not in TypePrescriptionJap.values:
        raise OperationInterdite("Choisissez le type de prescription.")
    if fin is not None and fin < debut:
        raise OperationInterdite("La fin de la prescription précède son début.")
    if type_prescription == TypePrescriptionJap.PROPORTION:
        proportion = Decimal(str(proportion)) if proportion not in (None, "") else None
        if proportion is None or not ZERO < proportion < 100:
            raise OperationInterdite(
                "La proportion du prélèvement maintenue doit être comprise entre 0 et 100 % "
                "(exclus)."
            )
        plafond_mensuel = None
    elif type_prescription == TypePrescriptionJap.PLAFOND_MENSUEL:
        plafond_mensuel = montant_valide(plafond_mensuel, libelle="Le prélèvement mensuel maximal")
        proportion = None
    else:
        proportion = plafond_mensuel = None
    _source_libre(PrescriptionJap, source, "Cette prescription a déjà été enregistrée")
    prescription = PrescriptionJap.objects.create(
        detenu=detenu,
        type=type_prescription,
        proportion=proportion,
        plafond_mensuel=plafond_mensuel,
        reference=reference,
        date_decision=date_decision,
        debut=debut,
        fin=fin,
        enregistree_par=auteur,
        source=source,
    )
    valeur = (
        f" : {proportion} %"
        if proportion is not None
        else (f" : {euros(plafond_mensuel)} par mois" if plafond_mensuel is not None else "")
    )
    _journal(
        detenu,
        auteur,
        ActionSituation.PRESCRIPTION_JAP,
        debut,
        reference,
        f"{TypePrescriptionJap(type_prescription).label}{valeur}"
        + (f", jusqu'au {fin:%d/%m/%Y}" if fin else ""),
    )
    return prescription
