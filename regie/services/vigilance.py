"""Vigilance over incoming money (former D. 274 and D. 339; circular of 19 May 2009 §5).

- `examiner_recette(ecriture)`: the receipt services call it after booking a receipt; it
  applies the establishment's rules (`ReglesVigilance`) and opens one alert « à
  examiner » per rule met. It never refuses nor delays the crediting.
- `decider_alerte`: the chef d'établissement decides: nothing to report, or reported to
  the judicial authority (date and reference); and, only if the chef says so, further
  credits from the sender are held (`RetenueEmetteur`) until `lever_retenue`.
- `regie.selectors.motif_retenue_credit` is what the payments side asks before crediting.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from socle.formats import euros

from ..exceptions import DecisionDejaPrise, OperationInterdite
from ..models import (
    ZERO,
    AlerteVigilance,
    Detenu,
    Ecriture,
    NatureEcriture,
    PermissionSortie,
    ReglesVigilance,
    RegleVigilance,
    RetenueEmetteur,
    StatutAlerte,
)
from .ecritures import NATURES_RECETTES_SOUMISES, verifier_droits

DROIT_VIGILANCE = "regie.decider_vigilance"
#: The entries that bring money from outside, whose amount and origin are watched.
NATURES_ENTRANTES = NATURES_RECETTES_SOUMISES | {NatureEcriture.SUBSIDE_D422}


def _alerte(ecriture: Ecriture, regle: str, montant, details: str, emetteur: str = "") -> None:
    AlerteVigilance.objects.get_or_create(
        ecriture=ecriture,
        regle=regle,
        defaults={
            "etablissement": ecriture.etablissement,
            "detenu": ecriture.compte.detenu,
            "emetteur": emetteur,
            "montant": montant,
            "details": details,
        },
    )


def _deja_a_examiner(
    ecriture: Ecriture, regle: str, *, detenu: Detenu | None = None, emetteur: str = ""
) -> bool:
    """A pattern rule already waiting for the chef is not raised again for each receipt."""
    alertes = AlerteVigilance.objects.filter(
        etablissement_id=ecriture.etablissement_id, regle=regle, statut=StatutAlerte.A_EXAMINER
    )
    if detenu is not None:
        alertes = alertes.filter(detenu=detenu)
    if emetteur:
        alertes = alertes.filter(emetteur=emetteur)
    return alertes.exists()


_A_LIRE = object()


def regles_de(etablissement) -> ReglesVigilance | None:
    """The establishment's rules, from `select_related("…regles_vigilance")` when the
    caller read them with the establishment (no query then), None when there are none."""
    try:
        return etablissement.regles_vigilance
    except ReglesVigilance.DoesNotExist:
        return None


def examiner_recette(ecriture: Ecriture, *, regles=_A_LIRE) -> list[AlerteVigilance]:
    """Apply the establishment's rules to a receipt just booked (same transaction).
    `regles`: the rules of the entry's establishment when the caller already has them."""
    if regles is _A_LIRE:
        regles = ReglesVigilance.objects.filter(etablissement_id=ecriture.etablissement_id).first()
    if regles is None:
        return []
    detenu = ecriture.compte.detenu
    avant = set(AlerteVigilance.objects.filter(ecriture=ecriture).values_list("pk", flat=True))
    if ecriture.nature == NatureEcriture.PERMISSION_RETOUR:
        _examiner_retour_permission(ecriture, regles)
    elif ecriture.nature in NATURES_ENTRANTES:
        _examiner_entree(ecriture, regles, detenu)
    return list(AlerteVigilance.objects.filter(ecriture=ecriture).exclude(pk__in=avant))


def _examiner_entree(ecriture: Ecriture, regles: ReglesVigilance, detenu: Detenu) -> None:
    jour = ecriture.date_operation
    emetteur = ecriture.emetteur
    if regles.seuil_par_recette is not None and ecriture.montant >= regles.seuil_par_recette:
        _alerte(
            ecriture,
            RegleVigilance.MONTANT,
            ecriture.montant,
            f"Recette de {euros(ecriture.montant)} ({ecriture.get_nature_display().lower()}), "
            f"seuil fixé à {euros(regles.seuil_par_recette)}.",
            emetteur,
        )
    entrees = Ecriture.objects.filter(nature__in=NATURES_ENTRANTES, contrepassee_par__isnull=True)
    if regles.seuil_mensuel is not None:
        total = (
            entrees.filter(
                compte=ecriture.compte,
                date_operation__year=jour.year,
                date_operation__month=jour.month,
            ).aggregate(total=Sum("montant"))["total"]
            or ZERO
        )
        if total >= regles.seuil_mensuel and total - ecriture.montant < regles.seuil_mensuel:
            _alerte(
                ecriture,
                RegleVigilance.CUMUL_MENSUEL,
                total,
                f"{euros(total)} reçus en {jour:%m/%Y}, seuil mensuel fixé à "
                f"{euros(regles.seuil_mensuel)}.",
                emetteur,
            )
    debut = jour - datetime.timedelta(days=regles.periode_jours - 1)
    periode = entrees.filter(date_operation__range=(debut, jour))
    if regles.detenus_par_emetteur is not None and emetteur:
        detenus = periode.filter(emetteur=emetteur).values("compte__detenu").distinct().count()
        if detenus >= regles.detenus_par_emetteur and not _deja_a_examiner(
            ecriture, RegleVigilance.EMETTEUR_PLUSIEURS_DETENUS, emetteur=emetteur
        ):
            _alerte(
                ecriture,
                RegleVigilance.EMETTEUR_PLUSIEURS_DETENUS,
                ecriture.montant,
                f"L'émetteur {emetteur} a versé à {detenus} personnes détenues en "
                f"{regles.periode_jours} jours (seuil : {regles.detenus_par_emetteur}).",
                emetteur,
            )
    if regles.emetteurs_par_detenu is not None:
        emetteurs = (
            periode.filter(compte=ecriture.compte)
            .exclude(emetteur="")
            .values("emetteur")
            .distinct()
            .count()
        )
        if emetteurs >= regles.emetteurs_par_detenu and not _deja_a_examiner(
            ecriture, RegleVigilance.PLUSIEURS_EMETTEURS, detenu=detenu
        ):
            _alerte(
                ecriture,
                RegleVigilance.PLUSIEURS_EMETTEURS,
                ecriture.montant,
                f"{emetteurs} émetteurs différents en {regles.periode_jours} jours pour cette "
                f"personne détenue (seuil : {regles.emetteurs_par_detenu}).",
                emetteur,
            )


def _examiner_retour_permission(ecriture: Ecriture, regles: ReglesVigilance) -> None:
    if regles.excedent_retour_permission is None:
        return
    permission = PermissionSortie.objects.filter(ecriture_retour=ecriture).first()
    remis = permission.montant_fixe if permission else ZERO
    excedent = ecriture.montant - remis
    if excedent >= regles.excedent_retour_permission:
        _alerte(
            ecriture,
            RegleVigilance.RETOUR_PERMISSION,
            ecriture.montant,
            f"{euros(ecriture.montant)} rapportés d'une permission de sortir pour "
            f"{euros(remis)} remis : {euros(excedent)} de plus (seuil : "
            f"{euros(regles.excedent_retour_permission)}).",
        )


@transaction.atomic
def decider_alerte(
    *,
    alerte: AlerteVigilance,
    signaler: bool,
    motif: str,
    auteur,
    autorite: str = "",
    date_signalement: datetime.date | None = None,
    reference_signalement: str = "",
    retenir_credits: bool = False,
) -> AlerteVigilance:
    """The chef's decision on an alert. `retenir_credits` holds the sender's further
    credits to this detainee (« à traiter » on the payments side) until lifted."""
    alerte = AlerteVigilance.objects.select_for_update(of=("self",)).get(pk=alerte.pk)
    verifier_droits(auteur, alerte.etablissement, DROIT_VIGILANCE, "décider d'une alerte")
    if alerte.statut != StatutAlerte.A_EXAMINER:
        raise DecisionDejaPrise(
            f"Cette alerte a déjà été décidée ({alerte.get_statut_display().lower()})."
        )
    if not motif or not motif.strip():
        raise OperationInterdite("Le motif de la décision est obligatoire.")
    if signaler and not (autorite.strip() and date_signalement and reference_signalement.strip()):
        raise OperationInterdite(
            "Un signalement a une autorité judiciaire destinataire, une date et une référence."
        )
    if retenir_credits and not alerte.emetteur:
        raise OperationInterdite(
            "Cette recette n'a pas d'émetteur identifié : aucun crédit ne peut être retenu."
        )
    alerte.statut = StatutAlerte.SIGNALEE if signaler else StatutAlerte.RIEN_A_SIGNALER
    alerte.decidee_par = auteur
    alerte.decidee_le = timezone.now()
    alerte.motif_decision = motif.strip()
    if signaler:
        alerte.autorite = autorite.strip()
        alerte.date_signalement = date_signalement
        alerte.reference_signalement = reference_signalement.strip()
    alerte.save()
    if retenir_credits:
        RetenueEmetteur.objects.create(
            etablissement=alerte.etablissement,
            emetteur=alerte.emetteur,
            detenu=alerte.detenu,
            alerte=alerte,
            motif=motif.strip(),
            decidee_par=auteur,
        )
    return alerte


@transaction.atomic
def lever_retenue(*, retenue: RetenueEmetteur, auteur) -> RetenueEmetteur:
    retenue = RetenueEmetteur.objects.select_for_update().get(pk=retenue.pk)
    verifier_droits(auteur, retenue.etablissement, DROIT_VIGILANCE, "lever une retenue")
    if retenue.levee_le is not None:
        raise DecisionDejaPrise("Cette retenue est déjà levée.")
    retenue.levee_le = timezone.now()
    retenue.levee_par = auteur
    retenue.save(update_fields=["levee_le", "levee_par"])
    return retenue


@transaction.atomic
def fixer_regles_vigilance(*, etablissement, auteur, **regles) -> ReglesVigilance:
    """The chef sets the establishment's rules (who and when are kept)."""
    verifier_droits(auteur, etablissement, DROIT_VIGILANCE, "fixer les règles de vigilance")
    objet, _ = ReglesVigilance.objects.select_for_update().get_or_create(
        etablissement=etablissement
    )
    for champ, valeur in regles.items():
        setattr(objet, champ, valeur)
    objet.modifiees_par = auteur
    objet.modifiees_le = timezone.now()
    objet.full_clean()
    objet.save()
    return objet
