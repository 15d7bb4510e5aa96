"""D.422 exempt subsidies (R. 332-3 al. 3): the request, the decisions, the money received,
blocked and spent, the remainder; each step logged."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from socle.dates import aujourdhui
from socle.formats import euros

from ..exceptions import (
    CoordonneesBancairesInvalides,
    DecisionDejaPrise,
    DroitsInsuffisants,
    OperationInterdite,
    SoldeInsuffisant,
)
from ..models import (
    ZERO,
    ActionD422,
    AutorisationD422,
    ChoixReliquat,
    CompteNominatif,
    Contrepartie,
    DecisionMagistrat,
    Detenu,
    Ecriture,
    EvenementD422,
    LigneEcriture,
    NatureEcriture,
    NatureOrdre,
    Partie,
    StatutD422,
    StatutPenal,
)
from .ecritures import (
    Ligne,
    _bloque_pour,
    _compte_actif,
    _cumul_du_mois,
    _lignes_repartition,
    _passer,
    _premier_du_mois,
    _source_libre,
    _verrouiller,
    montant_valide,
    verifier_droits,
)
from .ordres import Beneficiaire, beneficiaire_valide, preparer_ordre
from .vigilance import examiner_recette


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
    """What has been received under the authorisation (exempt, blocked credits), net of
    the reversed receipts."""
    return (
        LigneEcriture.objects.filter(bloque_d422=autorisation)
        .filter(
            Q(ecriture__nature=NatureEcriture.SUBSIDE_D422)
            | Q(
                ecriture__nature=NatureEcriture.CONTREPASSATION,
                ecriture__contrepasse__nature=NatureEcriture.SUBSIDE_D422,
            )
        )
        .aggregate(total=Sum("montant"))["total"]
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
    examiner_recette(ecriture)  # vigilance: may open alerts, never refuses
    return ecriture


@transaction.atomic
def payer_depense_d422(
    *,
    autorisation: AutorisationD422,
    montant,
    source: str,
    motif: str,
    auteur,
    fournisseur: str,
    iban: str,
    bic: str = "",
    date_operation: datetime.date | None = None,
    piece: str = "",
) -> Ecriture:
    """Unblock and pay the authorised expense from the blocked sum, by a payment order to
    the supplier typed from the invoice (`piece`). If the order fails, the sum comes back
    blocked for the authorisation."""
    montant = montant_valide(montant)
    destinataire = beneficiaire_valide(fournisseur, iban, bic)
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
    preparer_ordre(
        nature=NatureOrdre.FOURNISSEUR_D422,
        beneficiaire=destinataire,
        montant=montant,
        libelle=f"D422 N {autorisation.pk} {piece or motif}",
        source=f"ecriture:{ecriture.pk}",
        auteur=auteur,
        etablissement=compte.detenu.etablissement,
        compte=compte,
        ecriture=ecriture,
        partie=Partie.PART_DISPONIBLE,
        contrepartie=Contrepartie.FOURNISSEUR,
        autorisation=autorisation,
        piece=piece,
    )
    _journal_d422(
        autorisation,
        auteur,
        ActionD422.DEPENSE,
        f"{euros(montant)} – {motif.strip()} – payée à {destinataire.nom}",
    )
    return ecriture


def _source_reliquat(autorisation: AutorisationD422) -> str:
    base = f"d422:{autorisation.pk}:reliquat"
    deja = Ecriture.objects.filter(source__startswith=base).count()
    return base if not deja else f"{base}:{deja + 1}"


def _solder_bloque(
    autorisation: AutorisationD422,
    compte: CompteNominatif,
    *,
    choix: str,
    auteur,
    motif: str,
    date_operation: datetime.date | None,
    emetteur: Beneficiaire | None,
) -> Ecriture | None:
    """Release what is still blocked: split as a subject receipt, or return to the sender
    by a payment order (if it fails, the sum lands on the part disponible, unblocked)."""
    reliquat = _bloque_pour(autorisation.pk)
    if reliquat <= 0:
        return None
    if choix == ChoixReliquat.RESTITUER and emetteur is None:
        raise CoordonneesBancairesInvalides(
            f"Le reliquat ({euros(reliquat)}) est restitué à l'émetteur : indiquez son nom et "
            "son IBAN.",
            champ="iban",
        )
    jour = date_operation or aujourdhui()
    lignes = [Ligne(Partie.PART_DISPONIBLE, -reliquat, bloque=autorisation)]
    montant_soumis = ZERO
    if choix == ChoixReliquat.REPARTIR:
        lignes += _lignes_repartition(compte, reliquat, jour, _cumul_du_mois(compte, jour))
        montant_soumis = reliquat
    else:
        lignes.append(Ligne(Partie.CONTREPARTIE, reliquat, Contrepartie.EMETTEUR))
    ecriture = _passer(
        compte,
        nature=NatureEcriture.RELIQUAT_D422,
        # Booked again as `…:2`, `…:3` after the reversal of the previous remainder.
        source=_source_reliquat(autorisation),
        motif=motif,
        lignes=lignes,
        auteur=auteur,
        auteur_systeme="",
        date_operation=jour,
        montant_soumis=montant_soumis,
        mois_repartition=_premier_du_mois(jour),
        autorisation=autorisation,
    )
    if choix == ChoixReliquat.RESTITUER:
        preparer_ordre(
            nature=NatureOrdre.RELIQUAT_D422,
            beneficiaire=emetteur,
            montant=reliquat,
            libelle=f"RELIQUAT D422 N {autorisation.pk} {compte.detenu.nom}",
            source=f"ecriture:{ecriture.pk}",
            auteur=auteur,
            etablissement=compte.detenu.etablissement,
            compte=compte,
            ecriture=ecriture,
            partie=Partie.PART_DISPONIBLE,
            contrepartie=Contrepartie.EMETTEUR,
        )
    return ecriture


def _emetteur(nom: str, iban: str, bic: str) -> Beneficiaire | None:
    """The sender a remainder is returned to, when given."""
    if not (nom or "").strip() and not (iban or "").strip():
        return None
    return beneficiaire_valide(nom, iban, bic)


@transaction.atomic
def cloturer_d422(
    *,
    autorisation: AutorisationD422,
    auteur,
    date_operation: datetime.date | None = None,
    emetteur_nom: str = "",
    emetteur_iban: str = "",
    emetteur_bic: str = "",
) -> Ecriture | None:
    """After the expense: the remainder is split or returned, as the detainee chose (the
    sender's name and IBAN are needed to return it)."""
    emetteur = _emetteur(emetteur_nom, emetteur_iban, emetteur_bic)
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
        emetteur=emetteur,
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
    emetteur_nom: str = "",
    emetteur_iban: str = "",
    emetteur_bic: str = "",
) -> Ecriture | None:
    """Section 5.5: the detainee renounces, before or after the money arrived; money already
    received is split or returned to the sender, as chosen."""
    emetteur = _emetteur(emetteur_nom, emetteur_iban, emetteur_bic)
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
        emetteur=emetteur,
    )
    autorisation.statut = StatutD422.RENONCEE
    autorisation.save(update_fields=["statut"])
    _journal_d422(autorisation, auteur, ActionD422.RENONCIATION, motif.strip())
    return ecriture
