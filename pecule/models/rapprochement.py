"""The régie's bank statements and their lines, matched to the relatives' transfers.

- `ReleveBancaire`: one imported camt.053 statement of a régie's account. The same file
  twice is refused (`empreinte`, SHA-256 of the bytes, unique). Another file of the
  same statement (downloaded again later in the day) is accepted: its lines already
  imported are recognised by their bank reference.
- `LigneReleve`: one booked entry of the statement (or one transaction of a batch
  entry), with its matching state. A bank line seen again in an overlapping statement
  (same bank reference) is kept for the statement's completeness but marked as a
  duplicate of the first one (`doublon_de`) and never matched twice.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from regie.models import MONEY, Etablissement, OrdreVirement, Remise

from .virements import Virement


class Sens(models.TextChoices):
    CREDIT = "credit", "Crédit"
    DEBIT = "debit", "Débit"


class StatutRapprochement(models.TextChoices):
    RAPPROCHEE = "rapprochee", "Rapprochée"
    MONTANT_DIFFERENT = "montant_different", "Montant différent"
    NON_RAPPROCHEE = "non_rapprochee", "Non rapprochée"
    IGNOREE = "ignoree", "Ignorée"


# The states in which a line counts as the bank's proof of a transfer.
STATUTS_RAPPROCHES = (StatutRapprochement.RAPPROCHEE, StatutRapprochement.MONTANT_DIFFERENT)


class ReleveBancaire(models.Model):
    etablissement = models.ForeignKey(
        Etablissement,
        on_delete=models.PROTECT,
        related_name="releves_bancaires",
        verbose_name="établissement",
    )
    identifiant = models.CharField(
        "identifiant du relevé",
        max_length=35,
        help_text="Identifiant donné par la banque (Stmt/Id).",
    )
    identifiant_message = models.CharField(
        "identifiant du fichier", max_length=35, blank=True, help_text="GrpHdr/MsgId."
    )
    version = models.CharField("format", max_length=20)
    iban = models.CharField("IBAN du compte", max_length=34)
    emis_le = models.DateTimeField("émis par la banque le", null=True, blank=True)
    date_debut = models.DateField("du")
    date_fin = models.DateField("au")
    solde_ouverture = models.DecimalField("solde d'ouverture", **MONEY)
    solde_cloture = models.DecimalField("solde de clôture", **MONEY)
    total_credits = models.DecimalField("total des crédits", **MONEY)
    total_debits = models.DecimalField("total des débits", **MONEY)
    coherent = models.BooleanField(
        "soldes cohérents",
        help_text="Solde d'ouverture + crédits − débits = solde de clôture.",
    )
    empreinte = models.CharField(
        "empreinte SHA-256 du fichier", max_length=64, unique=True, editable=False
    )
    nom_fichier = models.CharField("nom du fichier", max_length=255, blank=True)
    contenu = models.BinaryField("fichier reçu", editable=False)
    importe_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="importé par",
    )
    importe_le = models.DateTimeField("importé le", default=timezone.now)

    class Meta:
        verbose_name = "relevé bancaire de la régie"
        verbose_name_plural = "relevés bancaires de la régie"
        ordering = ["-date_fin", "-importe_le", "-pk"]
        permissions = [
            ("importer_releve", "Peut importer un relevé bancaire de la régie (camt.053)"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(date_fin__gte=models.F("date_debut")), name="releve_dates_ordonnees"
            ),
        ]

    def __str__(self) -> str:
        if self.date_debut == self.date_fin:
            return f"Relevé {self.identifiant} du {self.date_fin:%d/%m/%Y}"
        return (
            f"Relevé {self.identifiant} du {self.date_debut:%d/%m/%Y} au {self.date_fin:%d/%m/%Y}"
        )


class LigneReleve(models.Model):
    releve = models.ForeignKey(
        ReleveBancaire, on_delete=models.CASCADE, related_name="lignes", verbose_name="relevé"
    )
    # Copied from the statement: the uniqueness of bank references is per establishment.
    etablissement = models.ForeignKey(
        Etablissement, on_delete=models.PROTECT, related_name="+", verbose_name="établissement"
    )
    position = models.PositiveIntegerField(
        "n° d'écriture", help_text="Rang de l'écriture (Ntry) dans le relevé, à partir de 1."
    )
    sous_position = models.PositiveSmallIntegerField(
        "n° dans le lot",
        default=0,
        help_text="Rang de la transaction dans une écriture groupée ; 0 pour une écriture simple.",
    )
    montant = models.DecimalField("montant", **MONEY)
    devise = models.CharField("devise", max_length=3, default="EUR")
    sens = models.CharField("sens", max_length=6, choices=Sens.choices)
    statut_ecriture = models.CharField(
        "statut à la banque", max_length=4, default="BOOK", help_text="BOOK : comptabilisée."
    )
    contrepassation = models.BooleanField("contre-passation", default=False)
    date_comptable = models.DateField("date comptable", null=True, blank=True)
    date_valeur = models.DateField("date de valeur", null=True, blank=True)
    reference_bout_en_bout = models.CharField(
        "référence de bout en bout", max_length=35, blank=True
    )
    libelle = models.TextField("libellé", blank=True)
    nom_debiteur = models.CharField("nom du débiteur", max_length=140, blank=True)
    iban_debiteur = models.CharField("IBAN du débiteur", max_length=34, blank=True)
    reference_banque = models.CharField(
        "référence de la banque",
        max_length=35,
        blank=True,
        help_text="Référence unique de l'écriture donnée par la banque (AcctSvcrRef).",
    )
    reference_ecriture = models.CharField(
        "référence de l'écriture", max_length=35, blank=True, help_text="NtryRef."
    )
    nom_crediteur = models.CharField("bénéficiaire (débit)", max_length=140, blank=True)
    iban_crediteur = models.CharField("IBAN du bénéficiaire (débit)", max_length=34, blank=True)
    ordre = models.ForeignKey(
        OrdreVirement,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="lignes_releve",
        verbose_name="ordre de virement",
        help_text="Pour un débit : l'ordre de virement de la régie qu'il paie.",
    )
    virement = models.ForeignKey(
        Virement,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="lignes_releve",
        verbose_name="virement",
    )
    statut_rapprochement = models.CharField(
        "rapprochement", max_length=20, choices=StatutRapprochement.choices
    )
    doublon_de = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="doublons",
        verbose_name="déjà importée avec",
    )
    note = models.CharField("observation", max_length=500, blank=True)
    cree_le = models.DateTimeField("créée le", default=timezone.now)

    class Meta:
        verbose_name = "ligne de relevé bancaire"
        verbose_name_plural = "lignes de relevés bancaires"
        ordering = ["releve", "position", "sous_position"]
        indexes = [models.Index(fields=["etablissement", "statut_rapprochement"])]
        constraints = [
            models.UniqueConstraint(
                fields=["releve", "position", "sous_position"], name="ligne_releve_position"
            ),
            # Overlapping statements: a bank line is imported once per establishment.
            models.UniqueConstraint(
                fields=["etablissement", "reference_banque", "sous_position"],
                condition=~Q(reference_banque="") & Q(doublon_de__isnull=True),
                name="ligne_releve_reference_banque_unique",
            ),
            # A transfer is proven by one bank line at most.
            models.UniqueConstraint(
                fields=["virement"],
                condition=Q(statut_rapprochement__in=STATUTS_RAPPROCHES),
                name="ligne_releve_un_rapprochement_par_virement",
            ),
            # An order is proven paid by one bank line at most.
            models.UniqueConstraint(
                fields=["ordre"],
                condition=Q(statut_rapprochement__in=STATUTS_RAPPROCHES),
                name="ligne_releve_un_rapprochement_par_ordre",
            ),
            models.CheckConstraint(
                condition=~Q(statut_rapprochement__in=STATUTS_RAPPROCHES)
                | Q(virement__isnull=False)
                | Q(ordre__isnull=False),
                name="ligne_releve_rapprochee_a_un_virement",
            ),
            models.CheckConstraint(
                condition=Q(virement__isnull=True) | Q(ordre__isnull=True),
                name="ligne_releve_virement_ou_ordre",
            ),
            models.CheckConstraint(
                condition=Q(doublon_de__isnull=True)
                | Q(statut_rapprochement=StatutRapprochement.IGNOREE),
                name="ligne_releve_doublon_ignoree",
            ),
            models.CheckConstraint(condition=Q(montant__gte=0), name="ligne_releve_montant"),
            models.CheckConstraint(
                condition=Q(statut_rapprochement__in=StatutRapprochement.values),
                name="ligne_releve_statut_connu",
            ),
        ]

    def __str__(self) -> str:
        numero = f"{self.position}.{self.sous_position}" if self.sous_position else self.position
        return f"Ligne {numero} – {self.get_sens_display()} {self.montant} {self.devise}"


class RapportPain002(models.Model):
    """One imported status report (ISO 20022 pain.002) of the régie's bank about a batch
    of outgoing transfers. The same file twice is refused (`empreinte`)."""

    etablissement = models.ForeignKey(
        Etablissement, on_delete=models.PROTECT, related_name="+", verbose_name="établissement"
    )
    remise = models.ForeignKey(
        Remise, on_delete=models.PROTECT, related_name="rapports", verbose_name="remise"
    )
    identifiant_message = models.CharField("identifiant du compte rendu", max_length=35)
    statut_groupe = models.CharField("statut de la remise", max_length=4, blank=True)
    nombre_rejets = models.PositiveIntegerField("virements rejetés", default=0)
    empreinte = models.CharField(
        "empreinte SHA-256 du fichier", max_length=64, unique=True, editable=False
    )
    nom_fichier = models.CharField("nom du fichier", max_length=255, blank=True)
    contenu = models.BinaryField("fichier reçu", editable=False)
    importe_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="importé par",
    )
    importe_le = models.DateTimeField("importé le", default=timezone.now)

    class Meta:
        verbose_name = "compte rendu de la banque (pain.002)"
        verbose_name_plural = "comptes rendus de la banque (pain.002)"
        ordering = ["-importe_le", "-pk"]

    def __str__(self) -> str:
        return f"Compte rendu {self.identifiant_message} de la remise {self.remise.reference}"
