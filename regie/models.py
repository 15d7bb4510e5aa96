"""The régie des comptes nominatifs: establishments, detainees, accounts and the ledger.

Invariants are stated as database constraints so that a bug fails loudly instead of
losing money:
- no part of an account is ever negative, and the blocked D.422 sums never exceed the
  part disponible;
- an entry is booked once per source (unique `source`);
- an entry's lines add up to zero (double entry; checked in Python and, on PostgreSQL,
  by a deferred constraint trigger);
- ledger rows are never updated or deleted (PostgreSQL triggers; a correction is a
  reversing entry);
- the person who recorded a D.422 request never decides it.
The money-moving functions are in `regie.services`; nothing else writes these tables.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

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


REGIMES_SANS_PECULE = {
    Regime.SURVEILLANCE_ELECTRONIQUE,
    Regime.SEMI_LIBERTE,
    Regime.PLACEMENT_EXTERIEUR,
}


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
        return f"Compte nominatif de {self.detenu}"

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
        return f"{self.mois:02d}/{self.annee} : {self.cumul} €"


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
        return f"D.422 n° {self.pk} – {self.detenu} – {self.montant_autorise} €"


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
        return f"Permission du {self.date_sortie:%d/%m/%Y} – {self.montant_fixe} €"
