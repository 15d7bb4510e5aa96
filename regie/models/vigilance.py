"""Vigilance over incoming money (former D. 274 and D. 339, circular of 19 May 2009 §5):
the chef d'établissement tells the judicial authority of sums whose nature, amount or
origin make them liable to be withheld or seized. The texts set no threshold: each
establishment's chef sets the rules (`ReglesVigilance`); a receipt that meets one opens
an alert « à examiner » (`AlerteVigilance`) that the chef decides; the chef may also hold
further credits from a sender (`RetenueEmetteur`). The decision never blocks crediting
unless the chef says so."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .comptes import MONEY, Detenu, Etablissement
from .ecritures import Ecriture


class ReglesVigilance(models.Model):
    """The chef's rules for one establishment. An empty threshold switches its rule off."""

    etablissement = models.OneToOneField(
        Etablissement, on_delete=models.CASCADE, related_name="regles_vigilance"
    )
    seuil_par_recette = models.DecimalField(
        "montant d'une recette à examiner (€)",
        null=True,
        blank=True,
        help_text="Toute recette d'au moins ce montant est à examiner.",
        **MONEY,
    )
    seuil_mensuel = models.DecimalField(
        "total reçu dans le mois à examiner (€)",
        null=True,
        blank=True,
        help_text="Recettes d'une personne détenue dans le mois civil, toutes origines.",
        **MONEY,
    )
    detenus_par_emetteur = models.PositiveSmallIntegerField(
        "personnes détenues payées par un même émetteur",
        null=True,
        blank=True,
        help_text="Un émetteur qui verse à au moins ce nombre de personnes détenues "
        "pendant la période.",
    )
    emetteurs_par_detenu = models.PositiveSmallIntegerField(
        "émetteurs différents pour une même personne détenue",
        null=True,
        blank=True,
        help_text="Au moins ce nombre d'émetteurs différents pendant la période.",
    )
    periode_jours = models.PositiveSmallIntegerField(
        "période d'observation (jours)",
        default=30,
        help_text="Pour les deux règles précédentes.",
    )
    excedent_retour_permission = models.DecimalField(
        "excédent rapporté d'une permission à examiner (€)",
        null=True,
        blank=True,
        help_text="Somme rapportée au-delà de la somme remise pour la permission de sortir.",
        **MONEY,
    )
    instruction = models.CharField(
        "note du chef d'établissement fixant ces règles", max_length=200, blank=True
    )
    modifiees_par = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    modifiees_le = models.DateTimeField("modifiées le", null=True, blank=True)

    class Meta:
        verbose_name = "règles de vigilance"
        verbose_name_plural = "règles de vigilance"
        constraints = [
            models.CheckConstraint(
                condition=(Q(seuil_par_recette__isnull=True) | Q(seuil_par_recette__gt=0))
                & (Q(seuil_mensuel__isnull=True) | Q(seuil_mensuel__gt=0))
                & (Q(detenus_par_emetteur__isnull=True) | Q(detenus_par_emetteur__gte=2))
                & (Q(emetteurs_par_detenu__isnull=True) | Q(emetteurs_par_detenu__gte=2))
                & Q(periode_jours__gte=1)
                & (
                    Q(excedent_retour_permission__isnull=True) | Q(excedent_retour_permission__gt=0)
                ),
                name="vigilance_seuils_positifs",
                violation_error_message="Les seuils doivent être positifs (au moins 2 pour "
                "les nombres de personnes ou d'émetteurs).",
            ),
        ]

    def __str__(self) -> str:
        return f"Règles de vigilance – {self.etablissement.nom}"


class RegleVigilance(models.TextChoices):
    MONTANT = "montant", "Montant d'une recette"
    CUMUL_MENSUEL = "cumul_mensuel", "Total reçu dans le mois"
    EMETTEUR_PLUSIEURS_DETENUS = (
        "emetteur_plusieurs_detenus",
        "Un émetteur verse à plusieurs personnes détenues",
    )
    PLUSIEURS_EMETTEURS = "plusieurs_emetteurs", "Nombreux émetteurs pour une personne détenue"
    RETOUR_PERMISSION = "retour_permission", "Somme rapportée d'une permission de sortir"


class StatutAlerte(models.TextChoices):
    A_EXAMINER = "a_examiner", "À examiner"
    RIEN_A_SIGNALER = "rien_a_signaler", "Rien à signaler"
    SIGNALEE = "signalee", "Signalée à l'autorité judiciaire"


class AlerteVigilance(models.Model):
    """A receipt that met a rule, queued for the chef's decision."""

    etablissement = models.ForeignKey(
        Etablissement, on_delete=models.PROTECT, related_name="alertes_vigilance"
    )
    detenu = models.ForeignKey(
        Detenu,
        on_delete=models.PROTECT,
        related_name="alertes_vigilance",
        verbose_name="personne détenue",
    )
    ecriture = models.ForeignKey(
        Ecriture,
        on_delete=models.PROTECT,
        related_name="alertes_vigilance",
        verbose_name="recette en cause",
    )
    regle = models.CharField("règle", max_length=30, choices=RegleVigilance.choices)
    emetteur = models.CharField("émetteur", max_length=100, blank=True)
    montant = models.DecimalField("montant en cause (€)", **MONEY)
    details = models.TextField("constat")
    cree_le = models.DateTimeField("relevée le", default=timezone.now)
    statut = models.CharField(
        "statut", max_length=20, choices=StatutAlerte.choices, default=StatutAlerte.A_EXAMINER
    )
    decidee_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="décidée par",
    )
    decidee_le = models.DateTimeField("décidée le", null=True, blank=True)
    motif_decision = models.TextField("motif de la décision", blank=True)
    autorite = models.CharField("autorité judiciaire avisée", max_length=200, blank=True)
    date_signalement = models.DateField("date du signalement", null=True, blank=True)
    reference_signalement = models.CharField("référence du signalement", max_length=200, blank=True)

    class Meta:
        verbose_name = "alerte de vigilance"
        verbose_name_plural = "alertes de vigilance"
        ordering = ["-cree_le", "-pk"]
        permissions = [
            ("decider_vigilance", "Peut décider des alertes de vigilance (chef d'établissement)"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["ecriture", "regle"], name="alerte_unique_par_regle"),
            models.CheckConstraint(
                condition=Q(
                    statut=StatutAlerte.A_EXAMINER,
                    decidee_par__isnull=True,
                    decidee_le__isnull=True,
                )
                | (
                    ~Q(statut=StatutAlerte.A_EXAMINER)
                    & Q(decidee_par__isnull=False, decidee_le__isnull=False)
                    & ~Q(motif_decision="")
                ),
                name="alerte_decision_a_un_auteur",
            ),
            models.CheckConstraint(
                condition=~Q(statut=StatutAlerte.SIGNALEE)
                | (
                    Q(date_signalement__isnull=False)
                    & ~Q(reference_signalement="")
                    & ~Q(autorite="")
                ),
                name="alerte_signalement_complet",
                violation_error_message="Un signalement a une autorité, une date et une référence.",
            ),
        ]

    def __str__(self) -> str:
        return f"Alerte n° {self.pk} – {self.get_regle_display()}"


class RetenueEmetteur(models.Model):
    """The chef's decision to hold further credits from a sender (for one detainee, or
    for every detainee of the establishment), until lifted."""

    etablissement = models.ForeignKey(
        Etablissement, on_delete=models.PROTECT, related_name="retenues_emetteurs"
    )
    emetteur = models.CharField("émetteur", max_length=100)
    detenu = models.ForeignKey(
        Detenu,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="personne détenue (toutes si vide)",
    )
    alerte = models.ForeignKey(
        AlerteVigilance, on_delete=models.PROTECT, null=True, blank=True, related_name="retenues"
    )
    motif = models.TextField("motif")
    decidee_par = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decidee_le = models.DateTimeField("décidée le", default=timezone.now)
    levee_par = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    levee_le = models.DateTimeField("levée le", null=True, blank=True)

    class Meta:
        verbose_name = "retenue des crédits d'un émetteur"
        verbose_name_plural = "retenues des crédits d'émetteurs"
        ordering = ["-decidee_le", "-pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(emetteur=""), name="retenue_a_un_emetteur"),
            models.CheckConstraint(
                condition=Q(levee_le__isnull=True, levee_par__isnull=True)
                | Q(levee_le__isnull=False, levee_par__isnull=False),
                name="retenue_levee_a_un_auteur",
            ),
        ]

    def __str__(self) -> str:
        return f"Retenue des crédits de {self.emetteur}"
