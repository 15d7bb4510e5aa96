"""Reads of the relatives' side: whether the relative confirmed a transfer, what they may
still send this month, the estimate of how a sum will be split, the D.422 expense they
were named for, and, for the back-office, which cap a held transfer would break.

Everything a relative is shown is computed from their own transfers and from the
establishment's caps: never from another sender's money or the detainee's balance."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum

from regie import services as regie
from regie.exceptions import PlafondDepasse
from regie.models import ZERO, AutorisationD422, Detenu, NatureEcriture, StatutD422
from regie.plafonds import Marges, marges, subsides_du_mois, verifier_plafonds
from regie.repartition import Repartition, Situation, repartir
from socle.dates import aujourdhui

from .models import EvenementVirement, StatutPaiement, StatutRegie, Virement
from .services.commun import autorisation_d422_pour, emetteur_de
from .services.confirmation import SOURCE_CONFIRMATION
from .services.en_attente import en_attente

# --- « Confirmer » ---------------------------------------------------------------------


def confirme_par_le_proche(virement: Virement) -> bool:
    """Whether the relative clicked « Confirmer » for this transfer."""
    return EvenementVirement.objects.filter(virement=virement, source=SOURCE_CONFIRMATION).exists()


# --- What the relative may still send ---------------------------------------------------


def marges_du_mois(proche, detenu: Detenu, jour: datetime.date | None = None) -> Marges:
    """The caps and what is left under them this month for this relative and detainee:
    the figures a refusal at initiation would give (pending transfers counted)."""
    attente = en_attente(detenu=detenu, proche=proche)
    return marges(
        compte=detenu.compte,
        emetteur=emetteur_de(proche),
        jour=jour or aujourdhui(),
        en_attente=attente.detenu,
        en_attente_emetteur=attente.emetteur,
    )


# --- D.422: the expense the relative was named for ----------------------------------------


def _en_cours(virements: QuerySet[Virement]) -> QuerySet[Virement]:
    """Transfers still on their way: not final at the bank, or executed and not credited."""
    return virements.filter(
        Q(statut_paiement__in=[StatutPaiement.INITIE, StatutPaiement.AUTORISE])
        | Q(statut_paiement=StatutPaiement.EXECUTE, statut_regie=StatutRegie.A_CREDITER)
    )


@dataclass(frozen=True, slots=True)
class DepenseAutorisee:
    """A D.422 authorisation naming the relative as the sender, and what is left to send."""

    autorisation: AutorisationD422
    recu: Decimal  # credited under the authorisation
    en_cours: Decimal  # the relative's transfers to the detainee still on their way

    @property
    def reste(self) -> Decimal:
        """What remains to be sent: neither received nor on its way."""
        return max(self.autorisation.montant_autorise - self.recu - self.en_cours, ZERO)

    @property
    def en_cours_exonere(self) -> Decimal:
        """The part of the transfers on their way the authorisation will cover."""
        return min(self.en_cours, max(self.autorisation.montant_autorise - self.recu, ZERO))


def depense_autorisee(proche, detenu: Detenu) -> DepenseAutorisee | None:
    """The authorised D.422 expense that names this relative as the sender, if any (the
    one the crediting applies: `pecule.services.autorisation_d422_pour`)."""
    autorisation = autorisation_d422_pour(proche, detenu)
    if autorisation is None:
        return None
    en_cours = _en_cours(Virement.objects.filter(proche=proche, detenu=detenu)).aggregate(
        total=Sum("montant")
    )["total"]
    return DepenseAutorisee(
        autorisation=autorisation,
        recu=regie.montant_recu_d422(autorisation),
        en_cours=en_cours or ZERO,
    )


def virements_d422(virements, proche) -> set[int]:
    """The ids of the transfers, among `virements` (the relative's), that go or went to
    a D.422 expense: credited as an exempt subsidy, or still on their way while an
    authorisation names the relative for that detainee (the crediting will apply it)."""
    virements = list(virements)
    marques = {
        v.pk
        for v in virements
        if v.ecriture_id is not None and v.ecriture.nature == NatureEcriture.SUBSIDE_D422
    }
    en_route = [
        v
        for v in virements
        if v.statut_paiement in (StatutPaiement.INITIE, StatutPaiement.AUTORISE)
        or (
            v.statut_paiement == StatutPaiement.EXECUTE and v.statut_regie == StatutRegie.A_CREDITER
        )
    ]
    detenus = {v.detenu_id for v in en_route}
    if detenus:
        autorises = set(
            AutorisationD422.objects.filter(
                detenu_id__in=detenus,
                statut=StatutD422.AUTORISEE,
                emetteur_ref=emetteur_de(proche),
            ).values_list("detenu_id", flat=True)
        )
        marques |= {v.pk for v in en_route if v.detenu_id in autorises}
    return marques


# --- The estimate of the répartition ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ApercuRepartition:
    """How a sum the relative is about to send would be split, estimated from their own
    transfers to this detainee this calendar month only."""

    montant: Decimal
    deja_ce_mois: (
        Decimal  # the relative's own subject transfers this month (credited or on their way)
    )
    exonere: Decimal  # covered by a D.422 authorisation: all to the part disponible, blocked
    repartition: Repartition  # of the rest, by the ordinary rule

    @property
    def part_disponible(self) -> Decimal:
        return self.repartition.part_disponible + self.exonere

    @property
    def pecule_liberation(self) -> Decimal:
        return self.repartition.pecule_liberation

    @property
    def parties_civiles(self) -> Decimal:
        return self.repartition.parties_civiles


def apercu_repartition(
    *, proche, detenu: Detenu, montant: Decimal, jour: datetime.date | None = None
) -> ApercuRepartition:
    """The estimate shown under the amount, from the one rule engine
    (`regie.repartition.repartir`).

    The month's running total is the relative's own transfers to this detainee this month
    (credited, or on their way), nothing else: the detainee's wages and other senders'
    money, which also count in the real total, are not revealed. The detainee's own
    situation is not used either (regime without pécule, the part 1 ceiling): the
    ordinary rule is applied, and the page says why the real split may differ. The part
    a D.422 authorisation naming the relative covers is exempt."""
    jour = jour or aujourdhui()
    montant = regie.montant_valide(montant)
    # The relative's own pending transfers, less what an authorisation covers, and what
    # it still covers: the figures the checks at initiation use (`en_attente`).
    attente = en_attente(detenu=detenu, proche=proche)
    deja = subsides_du_mois(detenu.compte, jour, emetteur_de(proche)) + attente.emetteur
    exonere = min(montant, attente.reste_d422)
    soumis = montant - exonere
    if soumis > 0:
        repartition = repartir(
            soumis,
            Situation(
                cumul_mois=deja,
                mois=jour.month,
                sans_pecule=False,
                solde_parties_civiles=ZERO,
                plafond_parties_civiles=False,
            ),
        )
    else:
        repartition = Repartition(ZERO, ZERO, ZERO)
    return ApercuRepartition(
        montant=montant, deja_ce_mois=deja, exonere=exonere, repartition=repartition
    )


# --- The back-office ------------------------------------------------------------------------


def plafond_depasse_au_credit(virement: Virement, jour: datetime.date | None = None):
    """The cap that crediting this held transfer now would break (`PlafondDepasse`, whose
    message names it), or None. The régisseur's decision passes over the caps: the admin
    says which one and asks for confirmation."""
    jour = jour or aujourdhui()
    detenu = virement.detenu
    try:
        verifier_plafonds(
            compte=detenu.compte,
            montant=virement.montant,
            emetteur=emetteur_de(virement.proche),
            jour=jour,
        )
    except PlafondDepasse as depassement:
        return depassement
    return None


def virements_a_traiter(virements: QuerySet[Virement]) -> QuerySet[Virement]:
    """Held for the régisseur's decision (credit or return), a failed return included."""
    return virements.a_traiter()


def virements_a_verifier(virements: QuerySet[Virement]) -> QuerySet[Virement]:
    """A success the provider announced after a failure: not applied, to be checked."""
    return virements.filter(a_verifier=True)
