"""What the écrou's situation adds to the account (issue 12): the log of the statuses set
on the detainee (suspension, death, escape, contrainte judiciaire), the JAP's particular
prescriptions on the part 1 levy, and garnishments (saisies-attributions).

The statuses themselves are fields of `Detenu` (with their constraints); every change
goes through `regie.services.situations`, which writes one `EvenementSituation`.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from .comptes import MONEY, CompteNominatif, Detenu
from .ecritures import Ecriture


class ActionSituation(models.TextChoices):
    SUSPENSION = "suspension", "Suspension ou fractionnement de peine"
    FIN_SUSPENSION = "fin_suspension", "Retour sous écrou après la suspension"
    DECES = "deces", "Décès"
    EVASION = "evasion", "Évasion"
    REPRISE = "reprise", "Reprise après l'évasion"
    CONTRAINTE = "contrainte", "Contrainte judiciaire"
    FIN_CONTRAINTE = "fin_contrainte", "Fin de la contrainte judiciaire"
    PRESCRIPTION_JAP = "prescription_jap", "Prescription particulière du JAP"
    FIN_PRESCRIPTION_JAP = "fin_prescription_jap", "Fin d'une prescription du JAP"
    SAISIE = "saisie", "Saisie-attribution"
    MAINLEVEE = "mainlevee", "Mainlevée ou fin de la saisie-attribution"


class EvenementSituation(models.Model):
    """Append-only log (PostgreSQL trigger) of who set which status, when, on what
    decision."""

    detenu = models.ForeignKey(
        Detenu, on_delete=models.PROTECT, related_name="evenements_situation"
    )
    quand = models.DateTimeField("enregistré le", default=timezone.now)
    auteur = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    action = models.CharField("action", max_length=30, choices=ActionSituation.choices)
    date_effet = models.DateField("date d'effet")
    reference = models.CharField("décision ou pièce", max_length=200, blank=True)
    details = models.TextField("détails", blank=True)

    class Meta:
        verbose_name = "événement de la situation pénale"
        verbose_name_plural = "événements de la situation pénale"
        ordering = ["quand", "pk"]
        permissions = [
            (
                "enregistrer_situation",
                "Peut enregistrer une suspension, un décès, une évasion, une contrainte",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} du {self.date_effet:%d/%m/%Y}"


class TypePrescriptionJap(models.TextChoices):
    """D. 424-1: under a regime without pécule, part 1 stays due « sous réserve de
    prescriptions particulières déterminées par le juge de l'application des peines »."""

    DISPENSE_TOTALE = "dispense_totale", "Dispense totale du prélèvement parties civiles"
    PROPORTION = "proportion", "Prélèvement réduit à une proportion"
    PLAFOND_MENSUEL = "plafond_mensuel", "Prélèvement limité à un montant par mois"


class PrescriptionJap(models.Model):
    """A JAP decision on the part 1 levy of a detainee under a D. 424-1 regime: full
    dispensation, a proportion of the levy still due, or a monthly cap on it. It applies
    to the receipts dated from `debut` to `fin` (inclusive; open-ended without `fin`)."""

    detenu = models.ForeignKey(Detenu, on_delete=models.PROTECT, related_name="prescriptions_jap")
    type = models.CharField("prescription", max_length=20, choices=TypePrescriptionJap.choices)
    proportion = models.DecimalField(
        "proportion du prélèvement maintenue (%)",
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Par exemple 50 : la moitié du prélèvement reste due.",
    )
    plafond_mensuel = models.DecimalField(
        "prélèvement maximal par mois (€)", null=True, blank=True, **MONEY
    )
    reference = models.CharField("référence de la décision du JAP", max_length=200)
    date_decision = models.DateField("date de la décision")
    debut = models.DateField("applicable du")
    fin = models.DateField("jusqu'au (inclus)", null=True, blank=True)
    enregistree_par = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    enregistree_le = models.DateTimeField("enregistrée le", default=timezone.now)
    source = models.CharField(max_length=200, unique=True, null=True, blank=True)

    class Meta:
        verbose_name = "prescription du JAP (parties civiles)"
        verbose_name_plural = "prescriptions du JAP (parties civiles)"
        ordering = ["-debut", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(type=TypePrescriptionJap.DISPENSE_TOTALE)
                    & Q(proportion__isnull=True, plafond_mensuel__isnull=True)
                )
                | (
                    Q(type=TypePrescriptionJap.PROPORTION)
                    & Q(proportion__gt=0, proportion__lt=100, plafond_mensuel__isnull=True)
                )
                | (
                    Q(type=TypePrescriptionJap.PLAFOND_MENSUEL)
                    & Q(proportion__isnull=True, plafond_mensuel__gt=0)
                ),
                name="prescription_jap_valeur_coherente",
                violation_error_message="La valeur ne correspond pas au type de prescription.",
            ),
            models.CheckConstraint(
                condition=Q(fin__isnull=True) | Q(fin__gte=F("debut")),
                name="prescription_jap_periode",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} ({self.reference})"


class StatutSaisie(models.TextChoices):
    EN_COURS = "en_cours", "En cours"
    SOLDEE = "soldee", "Soldée"
    LEVEE = "levee", "Mainlevée"


class Saisie(models.Model):
    """A saisie-attribution served on the régisseur (D. 332-20): it reaches only the part
    disponible, less the sum the court or the law leaves to the detainee
    (`montant_laisse`, taken from the document: cantonnement, insaisissabilité)."""

    compte = models.ForeignKey(CompteNominatif, on_delete=models.PROTECT, related_name="saisies")
    creancier = models.CharField("créancier saisissant", max_length=200)
    reference_acte = models.CharField("acte de saisie (commissaire de justice)", max_length=200)
    date_acte = models.DateField("date de l'acte")
    montant_cause = models.DecimalField("somme réclamée (€)", **MONEY)
    montant_laisse = models.DecimalField(
        "montant laissé à la disposition de la personne (€)",
        help_text="Cantonnement ordonné par le juge ou somme insaisissable indiquée par "
        "l'acte ; 0 s'il n'y en a pas.",
        **MONEY,
    )
    statut = models.CharField(
        max_length=20, choices=StatutSaisie.choices, default=StatutSaisie.EN_COURS
    )
    enregistree_par = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    enregistree_le = models.DateTimeField("enregistrée le", default=timezone.now)
    source = models.CharField(max_length=200, unique=True, null=True, blank=True)

    class Meta:
        verbose_name = "saisie-attribution"
        verbose_name_plural = "saisies-attributions"
        ordering = ["-date_acte", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(montant_cause__gt=0), name="saisie_cause_positive"),
            models.CheckConstraint(
                condition=Q(montant_laisse__gte=0), name="saisie_laisse_positif"
            ),
        ]

    def __str__(self) -> str:
        return f"Saisie du {self.date_acte:%d/%m/%Y} – {self.creancier}"


class PaiementSaisie(models.Model):
    """Links a garnishment to the entries that paid it (a reversed one no longer counts)."""

    saisie = models.ForeignKey(Saisie, on_delete=models.PROTECT, related_name="paiements")
    ecriture = models.OneToOneField(Ecriture, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "paiement d'une saisie"
        verbose_name_plural = "paiements des saisies"

    def __str__(self) -> str:
        return f"Paiement de la saisie n° {self.saisie_id} (écriture n° {self.ecriture_id})"
