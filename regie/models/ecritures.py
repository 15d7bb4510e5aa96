"""The ledger (entries and their lines, the parts and counterparts they move) and the
permissions de sortir it pays out."""

from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from socle.formats import euros

from .comptes import MONEY, ZERO, CompteNominatif, Etablissement
from .d422 import AutorisationD422


class NatureEcriture(models.TextChoices):
    SUBSIDE_PROCHE = "subside_proche", "Subside d'un proche"
    SALAIRE = "salaire", "Rémunération du travail"
    FORMATION = "formation", "Rémunération de formation"
    NUMERAIRE_ECROU = "numeraire_ecrou", "Numéraire à l'écrou"
    AUTRE_RECETTE = "autre_recette", "Autre recette"
    SUBSIDE_D422 = "subside_d422", "Subside exonéré (D.422)"
    DEPENSE_D422 = "depense_d422", "Paiement de la dépense autorisée (D.422)"
    RELIQUAT_D422 = "reliquat_d422", "Reliquat D.422"
    CANTINE = "cantine", "Cantine"
    LOCATION = "location", "Location (télévision, réfrigérateur…)"
    VIREMENT_SORTANT = "virement_sortant", "Envoi d'argent à l'extérieur"
    REMISE_DETENU = (
        "remise_detenu",
        "Remise à la personne détenue (dépenses extérieures, suspension de peine)",
    )
    AUTRE_DEBIT = "autre_debit", "Autre débit"
    PERMISSION_REMISE = "permission_remise", "Somme remise pour une permission de sortir"
    PERMISSION_RETOUR = "permission_retour", "Retour de permission de sortir"
    PAIEMENT_VICTIMES = "paiement_victimes", "Paiement aux parties civiles"
    CAPITAL_RENTE_AT = "capital_rente_at", "Capital d'une rente d'accident du travail"
    DEBLOCAGE_PECULE = "deblocage_pecule", "Déblocage du pécule (D. 424-3)"
    TRANSFERT_SORTANT = "transfert_sortant", "Transfert vers un autre établissement"
    TRANSFERT_ENTRANT = "transfert_entrant", "Solde reçu d'un autre établissement"
    LIBERATION = "liberation", "Liquidation à la libération"
    REMBOURSEMENT = "remboursement", "Remboursement"
    CONTREPASSATION = "contrepassation", "Contre-passation"
    ANNULATION_ORDRE = (
        "annulation_ordre",
        "Remise en compte d'un virement sortant refusé ou rejeté",
    )
    # Issue 12: the articles modelled since (docs/regles-metier.md).
    REMISE_SUSPENSION = (
        "remise_suspension",
        "Remise de la part disponible (suspension ou fractionnement de peine, D. 332-24)",
    )
    VERSEMENT_VOLONTAIRE_PC = (
        "versement_volontaire_pc",
        "Versement volontaire à la part des parties civiles (D. 332-12)",
    )
    SAISIE_ATTRIBUTION = "saisie_attribution", "Paiement d'une saisie-attribution (D. 332-20)"
    AIDE_NUMERAIRE = "aide_numeraire", "Aide en numéraire de l'État (D. 333-2)"
    AIDE_URGENCE = "aide_urgence", "Aide d'urgence à l'arrivée (personne sans ressources)"
    PLACEMENT_LIVRET_A = "placement_livret_a", "Placement du pécule sur livret A (D. 332-14)"
    RAPATRIEMENT_LIVRET_A = "rapatriement_livret_a", "Retour du livret A au pécule (D. 332-14)"
    INTERETS_LIVRET_A = "interets_livret_a", "Intérêts du livret A (pécule de libération)"
    CONTRAINTE_JUDICIAIRE = (
        "contrainte_judiciaire",
        "Paiement de la dette (contrainte judiciaire, D. 332-23)",
    )
    EVASION = "evasion", "Évasion : part disponible affectée d'office (L. 332-4)"
    RETABLISSEMENT_EVASION = (
        "retablissement_evasion",
        "Rétablissement après la reprise (D. 332-8-1)",
    )
    VERSEMENT_TRESOR = "versement_tresor", "Versement au Trésor (décès ou évasion)"
    REMISE_AYANTS_DROIT = "remise_ayants_droit", "Remise aux ayants droit (décès)"


class Partie(models.TextChoices):
    PARTIES_CIVILES = "parties_civiles", "Parties civiles et créanciers d'aliments"
    PECULE_LIBERATION = "pecule_liberation", "Pécule de libération"
    PART_DISPONIBLE = "part_disponible", "Part disponible"
    CONTREPARTIE = "contrepartie", "Contrepartie"


PARTIES_DU_COMPTE = (Partie.PARTIES_CIVILES, Partie.PECULE_LIBERATION, Partie.PART_DISPONIBLE)


@dataclass(frozen=True, slots=True)
class NomPartie:
    court: str  # a column or a list: « Parties civiles »
    en_phrase: str  # within a sentence: « Solde insuffisant sur la part des parties civiles »


# How the three parts of the account are named, beside their full legal name (`Partie`).
NOMS_PARTIES = {
    Partie.PARTIES_CIVILES: NomPartie("Parties civiles", "la part des parties civiles"),
    Partie.PECULE_LIBERATION: NomPartie("Pécule de libération", "le pécule de libération"),
    Partie.PART_DISPONIBLE: NomPartie("Part disponible", "la part disponible"),
}


class Contrepartie(models.TextChoices):
    """The other side of an entry: where money comes from or goes to."""

    ENCAISSEMENT = "encaissement", "Encaissement sur le compte de la régie"
    REGIE_INTERNE = "regie_interne", "Mouvement interne au compte"
    FOURNISSEUR = "fournisseur", "Fournisseur ou prestataire"
    EXTERIEUR = "exterieur", "Bénéficiaire extérieur"
    DETENU = "detenu", "Remise à la personne détenue"
    PARTIES_CIVILES = "parties_civiles", "Parties civiles et créanciers"
    FGTI = "fgti", "Fonds de garantie (FGTI)"
    EMETTEUR = "emetteur", "Restitution à l'émetteur"
    ETABLISSEMENT = "etablissement", "Autre établissement"
    TRESOR = "tresor", "Trésor public"
    ETAT = "etat", "État (aide aux personnes sans ressources suffisantes)"
    CREANCIER_SAISISSANT = "creancier_saisissant", "Créancier saisissant"
    AYANTS_DROIT = "ayants_droit", "Ayants droit"
    LIVRET_A = "livret_a", "Livret A (intérêts)"


class Ecriture(models.Model):
    """One movement of money on one account. Never updated or deleted."""

    etablissement = models.ForeignKey(
        Etablissement,
        on_delete=models.PROTECT,
        related_name="ecritures",
        verbose_name="régie",
    )
    compte = models.ForeignKey(CompteNominatif, on_delete=models.PROTECT, related_name="ecritures")
    nature = models.CharField("nature", max_length=30, choices=NatureEcriture.choices)
    source = models.CharField(
        "source",
        max_length=200,
        unique=True,
        help_text="Identifie de façon unique le fait générateur (virement, pièce, formulaire).",
    )
    motif = models.TextField("motif")
    piece = models.CharField("pièce justificative", max_length=200, blank=True)
    date_operation = models.DateField("date d'opération")
    cree_le = models.DateTimeField("enregistrée le", default=timezone.now)
    auteur = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    auteur_systeme = models.CharField("traitement automatique", max_length=100, blank=True)
    montant = models.DecimalField(
        "montant", help_text="Montant brut du mouvement (somme des lignes créditrices).", **MONEY
    )
    montant_soumis = models.DecimalField(
        "montant soumis à répartition",
        default=ZERO,
        help_text="Part de l'écriture comptée dans le cumul mensuel (négative pour une "
        "contre-passation).",
        **MONEY,
    )
    mois_repartition = models.DateField(
        "mois de répartition",
        null=True,
        blank=True,
        help_text="Premier jour du mois civil dont le cumul compte `montant_soumis`.",
    )
    emetteur = models.CharField("référence de l'émetteur", max_length=100, blank=True)
    autorisation_d422 = models.ForeignKey(
        AutorisationD422,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ecritures",
    )
    contrepasse = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contrepassee_par",
        verbose_name="écriture contre-passée",
    )
    rembourse = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="remboursements",
        verbose_name="écriture remboursée",
    )

    class Meta:
        verbose_name = "écriture"
        verbose_name_plural = "écritures"
        ordering = ["-cree_le", "-pk"]
        indexes = [
            models.Index(fields=["compte", "date_operation"]),
            models.Index(fields=["etablissement", "date_operation"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(auteur__isnull=False) | ~Q(auteur_systeme=""),
                name="ecriture_a_un_auteur",
            ),
            models.CheckConstraint(condition=Q(montant__gt=0), name="ecriture_montant_positif"),
            models.CheckConstraint(
                condition=Q(montant_soumis=0) | Q(mois_repartition__isnull=False),
                name="ecriture_soumise_a_un_mois",
            ),
        ]

    def __str__(self) -> str:
        return f"Écriture n° {self.pk} – {self.get_nature_display()}"


class LigneEcriture(models.Model):
    """One line of an entry. An entry's lines add up to zero."""

    ecriture = models.ForeignKey(Ecriture, on_delete=models.PROTECT, related_name="lignes")
    partie = models.CharField("partie", max_length=30, choices=Partie.choices)
    contrepartie = models.CharField(
        "contrepartie", max_length=30, choices=Contrepartie.choices, blank=True
    )
    montant = models.DecimalField("montant", **MONEY)
    bloque_d422 = models.ForeignKey(
        AutorisationD422,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="lignes",
        verbose_name="bloqué pour l'autorisation D.422",
    )
    # Added by migration 0006 with a default, so the ledger's rows were not touched (an
    # ADD COLUMN ... DEFAULT fires no row trigger). Lines booked before carry False;
    # `regie.services.corrections` knows how the former code wrote them.
    issue_repartition = models.BooleanField(
        "issue de la répartition",
        default=False,
        help_text="Part d'une somme soumise, calculée par la répartition (D. 332-10 à "
        "D. 332-15) : une contre-passation la recalcule sur le cumul du mois.",
    )
    livret_a = models.BooleanField(
        "pécule placé sur livret A",
        default=False,
        help_text="Ligne du pécule de libération placée sur livret A (D. 332-14).",
    )

    class Meta:
        verbose_name = "ligne d'écriture"
        verbose_name_plural = "lignes d'écriture"
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(montant=0), name="ligne_montant_non_nul"),
            models.CheckConstraint(
                condition=(Q(partie=Partie.CONTREPARTIE) & ~Q(contrepartie=""))
                | (~Q(partie=Partie.CONTREPARTIE) & Q(contrepartie="")),
                name="ligne_contrepartie_coherente",
            ),
            models.CheckConstraint(
                condition=Q(bloque_d422__isnull=True) | Q(partie=Partie.PART_DISPONIBLE),
                name="ligne_blocage_sur_part_disponible",
            ),
            models.CheckConstraint(
                condition=Q(issue_repartition=False) | ~Q(partie=Partie.CONTREPARTIE),
                name="ligne_repartition_sur_une_part",
            ),
            models.CheckConstraint(
                condition=Q(livret_a=False) | Q(partie=Partie.PECULE_LIBERATION),
                name="ligne_livret_a_sur_le_pecule",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_partie_display()} {self.montant:+}"


class StatutPermission(models.TextChoices):
    FIXEE = "fixee", "Somme fixée"
    REMISE = "remise", "Somme remise"
    REVENUE = "revenue", "Retour enregistré"
    ANNULEE = "annulee", "Annulée"


class PermissionSortie(models.Model):
    """Cash for a permission de sortir: set by the head, handed out, brought back (D. 424-4)."""

    compte = models.ForeignKey(
        CompteNominatif, on_delete=models.PROTECT, related_name="permissions_sortie"
    )
    montant_fixe = models.DecimalField("somme fixée par le chef d'établissement", **MONEY)
    fixee_par = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    fixee_le = models.DateTimeField(default=timezone.now)
    source = models.CharField("source", max_length=200, unique=True, null=True, blank=True)
    date_sortie = models.DateField("date de la permission")
    statut = models.CharField(
        max_length=20, choices=StatutPermission.choices, default=StatutPermission.FIXEE
    )
    ecriture_remise = models.OneToOneField(
        Ecriture, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    ecriture_retour = models.OneToOneField(
        Ecriture, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    montant_rapporte = models.DecimalField("somme rapportée", null=True, blank=True, **MONEY)

    class Meta:
        verbose_name = "permission de sortir"
        verbose_name_plural = "permissions de sortir"
        permissions = [
            ("fixer_permission_sortie", "Peut fixer la somme d'une permission de sortir"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(montant_fixe__gt=0), name="permission_montant_positif"
            ),
            models.CheckConstraint(
                condition=Q(montant_rapporte__isnull=True) | Q(montant_rapporte__gte=0),
                name="permission_rapporte_positif",
            ),
        ]

    def __str__(self) -> str:
        return f"Permission du {self.date_sortie:%d/%m/%Y} – {euros(self.montant_fixe)}"
