"""Establishments, detainees, their comptes nominatifs and monthly counters, and the
attachment of staff to establishments."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from socle.formats import de, euros

ZERO = Decimal("0.00")
MONEY = {"max_digits": 12, "decimal_places": 2}


def valider_iban(value: str) -> None:
    try:
        IBAN(value)
    except SchwiftyException as exc:
        raise ValidationError("IBAN invalide : %(erreur)s", params={"erreur": exc}) from exc


class Etablissement(models.Model):
    """A prison and its régie des comptes nominatifs, with its caps (spec section 6)."""

    code = models.CharField("code", max_length=20, unique=True)
    nom = models.CharField("nom", max_length=200)
    regie_titulaire = models.CharField(
        "titulaire du compte de la régie",
        max_length=140,
        help_text="Nom du créancier tel qu'il apparaît sur les virements.",
    )
    regie_iban = models.CharField("IBAN de la régie", max_length=34, validators=[valider_iban])
    plafond_par_virement = models.DecimalField(
        "plafond par virement (€)", default=Decimal("200.00"), **MONEY
    )
    plafond_mensuel_par_detenu = models.DecimalField(
        "plafond mensuel par personne détenue (€)",
        default=Decimal("400.00"),
        help_text="Total des virements des proches reçus par une personne détenue "
        "au cours d'un mois civil.",
        **MONEY,
    )
    plafond_mensuel_par_emetteur = models.DecimalField(
        "plafond mensuel par émetteur (€)",
        null=True,
        blank=True,
        help_text="Facultatif : total qu'un même proche peut envoyer à une même personne "
        "détenue au cours d'un mois civil.",
        **MONEY,
    )

    class Meta:
        verbose_name = "établissement"
        verbose_name_plural = "établissements"
        ordering = ["nom"]
        constraints = [
            models.CheckConstraint(
                condition=Q(plafond_par_virement__gt=0)
                & Q(plafond_mensuel_par_detenu__gt=0)
                & (
                    Q(plafond_mensuel_par_emetteur__isnull=True)
                    | Q(plafond_mensuel_par_emetteur__gt=0)
                ),
                name="etablissement_plafonds_positifs",
                violation_error_message="Les plafonds doivent être strictement positifs.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.nom} ({self.code})"

    def clean(self) -> None:
        if self.regie_iban:
            self.regie_iban = IBAN(self.regie_iban, allow_invalid=True).compact


class StatutPenal(models.TextChoices):
    PREVENU = "prevenu", "Prévenu"
    CONDAMNE = "condamne", "Condamné définitivement dans toutes les affaires"
    MIXTE = "mixte", "Condamné, au moins une affaire non définitive"


class Regime(models.TextChoices):
    ORDINAIRE = "ordinaire", "Détention ordinaire"
    SURVEILLANCE_ELECTRONIQUE = "pse", "Surveillance électronique (PSE / DDSE)"
    SEMI_LIBERTE = "semi_liberte", "Semi-liberté"
    PLACEMENT_EXTERIEUR = "placement_exterieur", "Placement à l'extérieur sans surveillance"
    PLACEMENT_EXTERIEUR_SURVEILLE = (
        "placement_exterieur_surveille",
        "Placement à l'extérieur sous surveillance",
    )


REGIMES_SANS_PECULE = {
    Regime.SURVEILLANCE_ELECTRONIQUE,
    Regime.SEMI_LIBERTE,
    Regime.PLACEMENT_EXTERIEUR,
}
# D. 424-3: the sentence adjustments under écrou during which the head may release
# pécule for resettlement expenses (semi-liberté, placement à l'extérieur, DDSE). A
# placement under supervision pays the pécule (D. 424-1) but is still an adjustment.
REGIMES_AMENAGEMENT_SOUS_ECROU = REGIMES_SANS_PECULE | {Regime.PLACEMENT_EXTERIEUR_SURVEILLE}


class TypeSuspension(models.TextChoices):
    """D. 332-24 names the suspension and the fractionnement of CPP 720-1; the medical
    suspension (720-1-1) is treated the same (spec 01 section 4; docs/regles-metier.md)."""

    SUSPENSION = "suspension", "Suspension de peine (art. 720-1 CPP)"
    FRACTIONNEMENT = "fractionnement", "Fractionnement de peine (art. 720-1 CPP)"
    SUSPENSION_MEDICALE = "suspension_medicale", "Suspension médicale (art. 720-1-1 CPP)"


class Detenu(models.Model):
    """A person under écrou, with the facts that decide the répartition."""

    etablissement = models.ForeignKey(
        Etablissement,
        on_delete=models.PROTECT,
        related_name="detenus",
        verbose_name="établissement actuel",
    )
    numero_ecrou = models.CharField("numéro d'écrou", max_length=20)
    nom = models.CharField("nom", max_length=150)
    prenoms = models.CharField("prénoms", max_length=150)
    date_naissance = models.DateField("date de naissance")
    statut_penal = models.CharField(
        "situation pénale",
        max_length=20,
        choices=StatutPenal.choices,
        default=StatutPenal.PREVENU,
    )
    regime = models.CharField(
        "régime", max_length=30, choices=Regime.choices, default=Regime.ORDINAIRE
    )
    victimes_indemnisees_ou_absentes = models.BooleanField(
        "victimes intégralement indemnisées, ou aucune victime ni dommages-intérêts",
        default=False,
        help_text="Condition (b) du plafond de la part des parties civiles (D. 332-12).",
    )
    creance_alimentaire_executoire = models.BooleanField(
        "créancier d'aliments titulaire d'un titre exécutoire",
        default=False,
        help_text="Si coché, le plafond de la part des parties civiles ne s'applique pas.",
    )
    decision_jap_sans_parties_civiles = models.CharField(
        "décision du JAP dispensant du prélèvement parties civiles",
        max_length=200,
        blank=True,
        help_text="Référence de la décision (régimes D. 424-1 seulement).",
    )
    prive_de_subsides_jusquau = models.DateField(
        "privé de subsides jusqu'au (inclus)", null=True, blank=True
    )
    libere_le = models.DateField("libéré le", null=True, blank=True)
    # Statuses of the écrou, set only by `regie.services.situations`, which logs who and
    # when in `EvenementSituation` (issue 12).
    suspension = models.CharField(
        "suspension ou fractionnement de peine",
        max_length=30,
        choices=TypeSuspension.choices,
        blank=True,
    )
    suspension_depuis = models.DateField("suspendue depuis le", null=True, blank=True)
    suspension_decision = models.CharField(
        "décision de suspension ou de fractionnement", max_length=200, blank=True
    )
    decede_le = models.DateField("décédé(e) le", null=True, blank=True)
    evade_le = models.DateField("évadé(e) le", null=True, blank=True)
    repris_le = models.DateField("repris(e) le", null=True, blank=True)
    contrainte_judiciaire_depuis = models.DateField(
        "contrainte judiciaire depuis le", null=True, blank=True
    )
    contrainte_judiciaire_montant = models.DecimalField(
        "dette objet de la contrainte judiciaire (€)", null=True, blank=True, **MONEY
    )

    class Meta:
        verbose_name = "personne détenue"
        verbose_name_plural = "personnes détenues"
        ordering = ["nom", "prenoms"]
        constraints = [
            models.UniqueConstraint(
                fields=["etablissement", "numero_ecrou"],
                name="detenu_ecrou_unique_par_etablissement",
                violation_error_message="Ce numéro d'écrou existe déjà dans cet établissement.",
            ),
            models.CheckConstraint(
                condition=Q(suspension="", suspension_depuis__isnull=True, suspension_decision="")
                | (
                    ~Q(suspension="")
                    & Q(suspension_depuis__isnull=False)
                    & ~Q(suspension_decision="")
                ),
                name="detenu_suspension_complete",
                violation_error_message="Une suspension a un type, une date et une décision.",
            ),
            models.CheckConstraint(
                condition=Q(repris_le__isnull=True)
                | Q(evade_le__isnull=False, repris_le__gte=F("evade_le")),
                name="detenu_reprise_apres_evasion",
                violation_error_message="La reprise suit une évasion.",
            ),
            models.CheckConstraint(
                condition=Q(
                    contrainte_judiciaire_depuis__isnull=True,
                    contrainte_judiciaire_montant__isnull=True,
                )
                | Q(
                    contrainte_judiciaire_depuis__isnull=False,
                    contrainte_judiciaire_montant__gt=0,
                ),
                name="detenu_contrainte_complete",
                violation_error_message="Une contrainte judiciaire a une date et une dette positive.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.nom} {self.prenoms} (écrou {self.numero_ecrou})"

    @property
    def sans_pecule(self) -> bool:
        """D. 424-1: no pécule de libération under these regimes."""
        return self.regime in REGIMES_SANS_PECULE

    @property
    def plafond_parties_civiles(self) -> bool:
        """Ceiling conditions (b), (c) and (d) of D. 332-12; (a) is the balance itself."""
        return (
            self.statut_penal == StatutPenal.CONDAMNE
            and self.victimes_indemnisees_ou_absentes
            and not self.creance_alimentaire_executoire
        )

    @property
    def en_amenagement_sous_ecrou(self) -> bool:
        """D. 424-3: semi-liberté, placement à l'extérieur or DDSE."""
        return self.regime in REGIMES_AMENAGEMENT_SOUS_ECROU

    @property
    def est_evade(self) -> bool:
        return self.evade_le is not None and self.repris_le is None

    def est_prive_de_subsides(self, jour) -> bool:
        return self.prive_de_subsides_jusquau is not None and jour <= self.prive_de_subsides_jusquau


class CompteNominatif(models.Model):
    """The three parts of L. 332-1. Balances are kept in the same transaction as the
    ledger lines and can be recomputed from them (`regie.selectors.soldes_recalcules`).

    `part_disponible` is the whole legal part 3; `part_disponible_bloquee` is the share
    of it blocked for D.422 purposes, which ordinary debits cannot touch.
    """

    detenu = models.OneToOneField(
        Detenu, on_delete=models.PROTECT, related_name="compte", verbose_name="personne détenue"
    )
    parties_civiles = models.DecimalField(
        "parties civiles et créanciers d'aliments", default=ZERO, **MONEY
    )
    pecule_liberation = models.DecimalField("pécule de libération", default=ZERO, **MONEY)
    part_disponible = models.DecimalField("part disponible", default=ZERO, **MONEY)
    part_disponible_bloquee = models.DecimalField(
        "dont sommes bloquées (D.422)", default=ZERO, **MONEY
    )
    ouvert_le = models.DateTimeField("ouvert le", default=timezone.now)
    cloture_le = models.DateTimeField("clôturé le", null=True, blank=True)

    class Meta:
        verbose_name = "compte nominatif"
        verbose_name_plural = "comptes nominatifs"
        permissions = [
            ("passer_ecriture", "Peut passer des écritures sur les comptes nominatifs"),
            ("exporter_releve", "Peut exporter le relevé d'un compte nominatif"),
            ("decider_deblocage_pecule", "Peut débloquer le pécule de libération (D. 424-3)"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(parties_civiles__gte=0),
                name="compte_parties_civiles_positive",
                violation_error_message="La part des parties civiles ne peut pas être négative.",
            ),
            models.CheckConstraint(
                condition=Q(pecule_liberation__gte=0),
                name="compte_pecule_liberation_positif",
                violation_error_message="Le pécule de libération ne peut pas être négatif.",
            ),
            models.CheckConstraint(
                condition=Q(part_disponible__gte=0),
                name="compte_part_disponible_positive",
                violation_error_message="La part disponible ne peut pas être négative.",
            ),
            models.CheckConstraint(
                condition=Q(part_disponible_bloquee__gte=0)
                & Q(part_disponible_bloquee__lte=F("part_disponible")),
                name="compte_bloque_dans_part_disponible",
                violation_error_message="Les sommes bloquées ne peuvent dépasser la part disponible.",
            ),
        ]

    def __str__(self) -> str:
        return f"Compte nominatif {de(str(self.detenu))}"

    @property
    def part_disponible_libre(self) -> Decimal:
        return self.part_disponible - self.part_disponible_bloquee

    @property
    def total(self) -> Decimal:
        return self.parties_civiles + self.pecule_liberation + self.part_disponible


class CompteurMensuel(models.Model):
    """Subject receipts of a calendar month (T0 of the répartition), per account."""

    compte = models.ForeignKey(CompteNominatif, on_delete=models.PROTECT, related_name="compteurs")
    annee = models.PositiveSmallIntegerField("année")
    mois = models.PositiveSmallIntegerField("mois")
    cumul = models.DecimalField("sommes soumises reçues", default=ZERO, **MONEY)

    class Meta:
        verbose_name = "compteur mensuel"
        verbose_name_plural = "compteurs mensuels"
        constraints = [
            models.UniqueConstraint(fields=["compte", "annee", "mois"], name="compteur_unique"),
            models.CheckConstraint(condition=Q(mois__gte=1, mois__lte=12), name="compteur_mois"),
            models.CheckConstraint(condition=Q(cumul__gte=0), name="compteur_cumul_positif"),
        ]

    def __str__(self) -> str:
        return f"{self.mois:02d}/{self.annee} : {euros(self.cumul)}"


class Affectation(models.Model):
    """Attaches a staff member to an establishment: they see and change only those."""

    utilisateur = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="affectations"
    )
    etablissement = models.ForeignKey(
        Etablissement, on_delete=models.CASCADE, related_name="affectations"
    )

    class Meta:
        verbose_name = "affectation"
        verbose_name_plural = "affectations"
        constraints = [
            models.UniqueConstraint(
                fields=["utilisateur", "etablissement"], name="affectation_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.utilisateur} → {self.etablissement}"
