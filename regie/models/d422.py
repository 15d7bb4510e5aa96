"""D.422 exempt subsidies: the request, its decisions and the log of its steps."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from socle.formats import euros

from .comptes import MONEY, Detenu, Etablissement


class ChoixReliquat(models.TextChoices):
    REPARTIR = "repartir", "Réparti selon les règles ordinaires"
    RESTITUER = "restituer", "Restitué à l'émetteur aux frais de la personne détenue"


class StatutD422(models.TextChoices):
    DEMANDEE = "demandee", "Demandée"
    AUTORISEE = "autorisee", "Autorisée"
    REFUSEE = "refusee", "Refusée"
    CLOTUREE = "cloturee", "Clôturée"
    RENONCEE = "renoncee", "Renoncée"


class DecisionMagistrat(models.TextChoices):
    FAVORABLE = "favorable", "Favorable"
    DEFAVORABLE = "defavorable", "Défavorable"


class AutorisationD422(models.Model):
    """A request for an exempt subsidy (R. 332-3 al. 3, former D.422) and its decision.

    It follows the detainee: `etablissement` is where it is managed now.
    """

    detenu = models.ForeignKey(
        Detenu,
        on_delete=models.PROTECT,
        related_name="autorisations_d422",
        verbose_name="personne détenue",
    )
    etablissement = models.ForeignKey(
        Etablissement, on_delete=models.PROTECT, related_name="autorisations_d422"
    )
    montant_autorise = models.DecimalField("montant demandé", **MONEY)
    objet = models.TextField("objet de la dépense")
    emetteur_attendu = models.CharField("émetteur attendu", max_length=200)
    emetteur_ref = models.CharField(
        "référence de l'émetteur",
        max_length=100,
        blank=True,
        help_text="Identifiant interne du proche émetteur, s'il est connu.",
    )
    reliquat = models.CharField("sort du reliquat", max_length=20, choices=ChoixReliquat.choices)
    date_demande = models.DateField("date de la demande écrite")
    source = models.CharField(
        "source",
        max_length=200,
        unique=True,
        null=True,
        blank=True,
        help_text="Identifie le formulaire ou le message qui a créé la demande (jamais deux fois).",
    )
    statut = models.CharField(
        "statut", max_length=20, choices=StatutD422.choices, default=StatutD422.DEMANDEE
    )
    enregistree_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="demande enregistrée par",
    )
    enregistree_le = models.DateTimeField("enregistrée le", default=timezone.now)
    # Prévenu: the investigating magistrate's decision, recorded before the head's visa.
    magistrat_decision = models.CharField(
        "décision du magistrat", max_length=20, choices=DecisionMagistrat.choices, blank=True
    )
    magistrat_nom = models.CharField("magistrat", max_length=200, blank=True)
    magistrat_reference = models.CharField("référence de la décision", max_length=100, blank=True)
    magistrat_date = models.DateField("date de la décision du magistrat", null=True, blank=True)
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

    class Meta:
        verbose_name = "autorisation D.422"
        verbose_name_plural = "autorisations D.422"
        ordering = ["-enregistree_le"]
        permissions = [
            ("decider_d422", "Peut autoriser ou refuser une demande D.422 (chef d'établissement)"),
            ("enregistrer_decision_magistrat", "Peut enregistrer la décision du magistrat"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(montant_autorise__gt=0), name="d422_montant_positif"
            ),
            models.CheckConstraint(
                condition=Q(decidee_par__isnull=True) | ~Q(decidee_par=F("enregistree_par")),
                name="d422_auteur_ne_decide_pas",
                violation_error_message="La personne qui a enregistré la demande ne peut pas la décider.",
            ),
            models.CheckConstraint(
                condition=Q(statut__in=[StatutD422.DEMANDEE, StatutD422.RENONCEE])
                | Q(decidee_par__isnull=False, decidee_le__isnull=False),
                name="d422_decision_a_un_auteur",
            ),
        ]

    def __str__(self) -> str:
        return f"D.422 n° {self.pk} – {self.detenu} – {euros(self.montant_autorise)}"


class ActionD422(models.TextChoices):
    """The steps of a D.422 request, as the services log them and every page names them."""

    DEMANDE = "demande", "Demande enregistrée"
    DECISION_MAGISTRAT = "decision_magistrat", "Décision du magistrat"
    AUTORISATION = "autorisation", "Autorisation du chef d'établissement"
    REFUS = "refus", "Refus du chef d'établissement"
    RECEPTION = "reception", "Somme reçue"
    DEPENSE = "depense", "Dépense payée"
    CLOTURE = "cloture", "Clôture"
    RENONCIATION = "renonciation", "Renonciation"
    TRANSFERT = "transfert", "Transfert"
    CONTREPASSATION = "contrepassation", "Écriture contre-passée"
    REOUVERTURE = "reouverture", "Reprise après la contre-passation du reliquat"


class EvenementD422(models.Model):
    """Append-only log of every step of a D.422 request, with its author."""

    autorisation = models.ForeignKey(
        AutorisationD422, on_delete=models.PROTECT, related_name="evenements"
    )
    quand = models.DateTimeField("date", default=timezone.now)
    auteur = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    action = models.CharField("action", max_length=50, choices=ActionD422.choices)
    details = models.TextField("détails", blank=True)

    class Meta:
        verbose_name = "étape D.422"
        verbose_name_plural = "étapes D.422"
        ordering = ["quand", "pk"]

    def __str__(self) -> str:
        return f"{timezone.localtime(self.quand):%d/%m/%Y %H:%M} {self.action}"
