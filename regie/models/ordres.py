"""Money out of the régie (spec 05-sorties-de-fonds.md): outgoing payment orders, their
approval by a second person, the batches (remises) sent to the bank as pain.001 files,
and the régie's own bank account, changed only under four eyes.

Invariants stated as constraints:
- the person who prepared an order never validates or refuses it, and the person who
  proposed a change of the régie's account never decides it;
- an order's state carries what that state needs (who validated, the batch, the bank's
  date or reason);
- an order without a ledger entry is a held transfer returned to its sender (the money
  never reached an account);
- one end-to-end id per order, one source per order (a form token or the fact that made
  it), one pending change of account per establishment.
The services of `regie.services.ordres` and `regie.services.compte_regie` write these
tables; nothing else does."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from socle.references import reference_lisible

from .comptes import MONEY, CompteNominatif, Etablissement
from .d422 import AutorisationD422
from .ecritures import Contrepartie, Ecriture, Partie


def nouvelle_reference_ordre() -> str:
    """The end-to-end id of an order, within SEPA's character set: ORD-XXXX-XXXX."""
    return reference_lisible("ORD")


class NatureOrdre(models.TextChoices):
    RETOUR_VIREMENT = "retour_virement", "Retour d'un virement à son émetteur"
    VIREMENT_DETENU = "virement_detenu", "Envoi d'argent de la personne détenue"
    PARTIES_CIVILES = "parties_civiles", "Paiement aux parties civiles ou créanciers d'aliments"
    FGTI = "fgti", "Versement au Fonds de garantie des victimes (FGTI)"
    LIBERATION = "liberation", "Remise du solde à la libération"
    TRANSFERT = "transfert", "Solde envoyé à la régie de l'établissement d'accueil"
    FOURNISSEUR_D422 = "fournisseur_d422", "Paiement du fournisseur (D.422)"
    RELIQUAT_D422 = "reliquat_d422", "Restitution du reliquat D.422 à l'émetteur"
    DEBLOCAGE_PECULE = "deblocage_pecule", "Déblocage du pécule (D. 424-3)"
    SAISIE = "saisie", "Paiement au créancier saisissant (D. 332-20)"
    AYANTS_DROIT = "ayants_droit", "Remise aux ayants droit (décès)"
    TRESOR = "tresor", "Versement au Trésor (évasion, décès, contrainte judiciaire)"


class TypeCreancier(models.TextChoices):
    """Who part 1 pays (L. 332-2): maintenance creditors come before the victims."""

    CREANCIER_ALIMENTS = "creancier_aliments", "Créancier d'aliments"
    VICTIME = "victime", "Partie civile"


class StatutOrdre(models.TextChoices):
    PREPARE = "prepare", "Préparé, à valider"
    VALIDE = "valide", "Validé"
    REFUSE = "refuse", "Refusé"
    EN_REMISE = "en_remise", "Dans une remise à transmettre"
    TRANSMIS = "transmis", "Transmis à la banque"
    EXECUTE = "execute", "Exécuté par la banque"
    REJETE = "rejete", "Rejeté par la banque"


# The states in which the money has not left and never will: it is back where it was.
STATUTS_ECHEC = (StatutOrdre.REFUSE, StatutOrdre.REJETE)
# The states of an order still on its way (the entry it pays cannot be reversed).
STATUTS_EN_COURS = (
    StatutOrdre.PREPARE,
    StatutOrdre.VALIDE,
    StatutOrdre.EN_REMISE,
    StatutOrdre.TRANSMIS,
)
_VALIDES = [
    StatutOrdre.VALIDE,
    StatutOrdre.EN_REMISE,
    StatutOrdre.TRANSMIS,
    StatutOrdre.EXECUTE,
    StatutOrdre.REJETE,
]
_DANS_UNE_REMISE = [
    StatutOrdre.EN_REMISE,
    StatutOrdre.TRANSMIS,
    StatutOrdre.EXECUTE,
    StatutOrdre.REJETE,
]


class OrdreVirement(models.Model):
    """One SEPA credit transfer the régie owes to an outside account."""

    etablissement = models.ForeignKey(
        Etablissement,
        on_delete=models.PROTECT,
        related_name="ordres_virement",
        verbose_name="régie qui paie",
    )
    compte = models.ForeignKey(
        CompteNominatif,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ordres_virement",
        verbose_name="compte nominatif",
    )
    ecriture = models.ForeignKey(
        Ecriture,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ordres_virement",
        verbose_name="écriture payée",
        help_text="Vide pour un virement retourné à son émetteur : l'argent n'avait atteint "
        "aucun compte nominatif.",
    )
    nature = models.CharField("nature", max_length=30, choices=NatureOrdre.choices)
    partie = models.CharField("partie débitée", max_length=30, choices=Partie.choices, blank=True)
    contrepartie = models.CharField(
        "contrepartie", max_length=30, choices=Contrepartie.choices, blank=True
    )
    autorisation_d422 = models.ForeignKey(
        AutorisationD422,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ordres_virement",
        help_text="La dépense D.422 payée : en cas d'échec, la somme revient bloquée.",
    )
    source = models.CharField(
        "source",
        max_length=200,
        unique=True,
        help_text="Le fait qui a créé l'ordre (jamais deux ordres pour le même).",
    )
    reference = models.CharField(
        "référence de bout en bout",
        max_length=35,
        unique=True,
        default=nouvelle_reference_ordre,
        editable=False,
    )
    beneficiaire_nom = models.CharField("bénéficiaire", max_length=70)
    beneficiaire_iban = models.CharField("IBAN du bénéficiaire", max_length=34)
    beneficiaire_bic = models.CharField("BIC du bénéficiaire", max_length=11, blank=True)
    montant = models.DecimalField("montant", **MONEY)
    libelle = models.CharField("libellé du virement", max_length=140)
    piece = models.CharField("pièce justificative", max_length=200, blank=True)
    statut = models.CharField(
        "état", max_length=20, choices=StatutOrdre.choices, default=StatutOrdre.PREPARE
    )
    prepare_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="préparé par",
    )
    prepare_le = models.DateTimeField("préparé le", default=timezone.now)
    valide_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="validé par",
    )
    valide_le = models.DateTimeField("validé le", null=True, blank=True)
    refuse_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="refusé par",
    )
    motif_refus = models.TextField("motif du refus", blank=True)
    remise = models.ForeignKey(
        "Remise",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ordres",
        verbose_name="remise",
    )
    execute_le = models.DateField("exécuté le", null=True, blank=True)
    reference_banque = models.CharField("référence de la banque", max_length=35, blank=True)
    code_rejet = models.CharField("code de rejet", max_length=4, blank=True)
    motif_rejet = models.CharField("motif du rejet", max_length=300, blank=True)
    ecriture_annulation = models.OneToOneField(
        Ecriture,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ordre_annule",
        verbose_name="écriture de remise en compte",
    )

    class Meta:
        verbose_name = "ordre de virement"
        verbose_name_plural = "ordres de virement"
        ordering = ["-prepare_le", "-pk"]
        permissions = [
            (
                "valider_ordrevirement",
                "Peut valider ou refuser un ordre de virement (second regard)",
            ),
            ("constituer_remise", "Peut constituer et transmettre une remise de virements"),
        ]
        indexes = [models.Index(fields=["etablissement", "statut"])]
        constraints = [
            models.CheckConstraint(condition=Q(montant__gt=0), name="ordre_montant_positif"),
            models.CheckConstraint(
                condition=Q(valide_par__isnull=True) | ~Q(valide_par=F("prepare_par")),
                name="ordre_preparateur_ne_valide_pas",
                violation_error_message="La personne qui a préparé l'ordre ne peut pas le valider.",
            ),
            models.CheckConstraint(
                condition=Q(refuse_par__isnull=True) | ~Q(refuse_par=F("prepare_par")),
                name="ordre_preparateur_ne_refuse_pas",
            ),
            models.CheckConstraint(
                condition=~Q(statut__in=_VALIDES)
                | Q(valide_par__isnull=False, valide_le__isnull=False),
                name="ordre_valide_a_un_valideur",
            ),
            models.CheckConstraint(
                condition=~Q(statut=StatutOrdre.REFUSE)
                | (Q(refuse_par__isnull=False) & ~Q(motif_refus="")),
                name="ordre_refus_motive",
            ),
            models.CheckConstraint(
                condition=~Q(statut__in=_DANS_UNE_REMISE) | Q(remise__isnull=False),
                name="ordre_transmis_dans_une_remise",
            ),
            models.CheckConstraint(
                condition=~Q(statut=StatutOrdre.EXECUTE) | Q(execute_le__isnull=False),
                name="ordre_execute_date",
            ),
            models.CheckConstraint(
                condition=~Q(statut=StatutOrdre.REJETE) | ~Q(code_rejet=""),
                name="ordre_rejet_motive",
            ),
            models.CheckConstraint(
                condition=Q(ecriture__isnull=False) | Q(nature=NatureOrdre.RETOUR_VIREMENT),
                name="ordre_paie_une_ecriture",
            ),
        ]

    def __str__(self) -> str:
        return f"Ordre {self.reference} – {self.beneficiaire_nom} – {self.montant} €"

    @property
    def en_echec(self) -> bool:
        return self.statut in STATUTS_ECHEC


class ActionOrdre(models.TextChoices):
    PREPARATION = "preparation", "Préparé"
    VALIDATION = "validation", "Validé"
    REFUS = "refus", "Refusé"
    MISE_EN_REMISE = "mise_en_remise", "Mis dans une remise"
    RETRAIT_DE_REMISE = "retrait_de_remise", "Remise annulée : de nouveau validé"
    TRANSMISSION = "transmission", "Transmis à la banque"
    EXECUTION = "execution", "Exécuté par la banque"
    REJET = "rejet", "Rejeté par la banque"


class EvenementOrdre(models.Model):
    """Append-only history of an order: every step, its author and time."""

    ordre = models.ForeignKey(OrdreVirement, on_delete=models.PROTECT, related_name="evenements")
    quand = models.DateTimeField("date", default=timezone.now)
    auteur = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    auteur_systeme = models.CharField("traitement automatique", max_length=100, blank=True)
    action = models.CharField("étape", max_length=30, choices=ActionOrdre.choices)
    details = models.TextField("détails", blank=True)

    class Meta:
        verbose_name = "étape d'un ordre de virement"
        verbose_name_plural = "étapes des ordres de virement"
        ordering = ["quand", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(auteur__isnull=False) | ~Q(auteur_systeme=""),
                name="evenement_ordre_a_un_auteur",
            ),
        ]

    def __str__(self) -> str:
        return f"{timezone.localtime(self.quand):%d/%m/%Y %H:%M} {self.get_action_display()}"


class VersionPain001(models.TextChoices):
    V03 = "pain.001.001.03", "pain.001.001.03 (banques françaises, Trésor)"
    V09 = "pain.001.001.09", "pain.001.001.09"


class StatutRemise(models.TextChoices):
    CONSTITUEE = "constituee", "Constituée, à transmettre"
    TRANSMISE = "transmise", "Transmise à la banque"
    ANNULEE = "annulee", "Annulée"


class Remise(models.Model):
    """A batch of validated orders of one establishment, written once as a pain.001 file.
    Downloading the file transmits it: it is served once; the batch can be cancelled
    only before."""

    etablissement = models.ForeignKey(
        Etablissement, on_delete=models.PROTECT, related_name="remises", verbose_name="régie"
    )
    reference = models.CharField(
        "identifiant du message",
        max_length=35,
        unique=True,
        help_text="GrpHdr/MsgId du fichier pain.001 : la banque refuse un second fichier "
        "portant le même.",
    )
    version = models.CharField(
        "format", max_length=20, choices=VersionPain001.choices, default=VersionPain001.V03
    )
    statut = models.CharField(
        "état", max_length=20, choices=StatutRemise.choices, default=StatutRemise.CONSTITUEE
    )
    nombre = models.PositiveIntegerField("nombre de virements")
    total = models.DecimalField("somme de contrôle", **MONEY)
    date_execution = models.DateField("date d'exécution demandée")
    debiteur_nom = models.CharField("titulaire du compte débité", max_length=140)
    debiteur_iban = models.CharField("IBAN du compte débité", max_length=34)
    fichier = models.BinaryField("fichier pain.001", editable=False)
    empreinte = models.CharField("empreinte SHA-256", max_length=64, editable=False)
    constituee_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="constituée par",
    )
    constituee_le = models.DateTimeField("constituée le", default=timezone.now)
    transmise_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="transmise par",
    )
    transmise_le = models.DateTimeField("transmise le", null=True, blank=True)
    annulee_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="annulée par",
    )
    annulee_le = models.DateTimeField("annulée le", null=True, blank=True)

    class Meta:
        verbose_name = "remise de virements"
        verbose_name_plural = "remises de virements"
        ordering = ["-constituee_le", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(nombre__gt=0), name="remise_non_vide"),
            models.CheckConstraint(condition=Q(total__gt=0), name="remise_total_positif"),
            models.CheckConstraint(
                condition=~Q(statut=StatutRemise.TRANSMISE)
                | Q(transmise_par__isnull=False, transmise_le__isnull=False),
                name="remise_transmise_par_quelqu_un",
            ),
            models.CheckConstraint(
                condition=~Q(statut=StatutRemise.ANNULEE)
                | Q(annulee_par__isnull=False, annulee_le__isnull=False, transmise_le__isnull=True),
                name="remise_annulee_avant_transmission",
            ),
        ]

    def __str__(self) -> str:
        return f"Remise {self.reference} – {self.nombre} virement(s), {self.total} €"


class StatutChangementCompte(models.TextChoices):
    PROPOSE = "propose", "Proposé, à approuver"
    APPROUVE = "approuve", "Approuvé"
    REFUSE = "refuse", "Refusé"


class ChangementCompteRegie(models.Model):
    """A change of the régie's bank account (where relatives' money goes, and which the
    outgoing transfers debit): proposed by one person, approved by another; until then
    the old account stays in use. The history of the account is this table."""

    etablissement = models.ForeignKey(
        Etablissement,
        on_delete=models.PROTECT,
        related_name="changements_compte",
        verbose_name="établissement",
    )
    ancien_titulaire = models.CharField("titulaire actuel", max_length=140)
    ancien_iban = models.CharField("IBAN actuel", max_length=34)
    nouveau_titulaire = models.CharField("nouveau titulaire", max_length=140)
    nouvel_iban = models.CharField("nouvel IBAN", max_length=34)
    motif = models.TextField("motif du changement")
    statut = models.CharField(
        "état",
        max_length=20,
        choices=StatutChangementCompte.choices,
        default=StatutChangementCompte.PROPOSE,
    )
    propose_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="proposé par",
    )
    propose_le = models.DateTimeField("proposé le", default=timezone.now)
    decide_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="décidé par",
    )
    decide_le = models.DateTimeField("décidé le", null=True, blank=True)
    motif_decision = models.TextField("motif de la décision", blank=True)

    class Meta:
        verbose_name = "changement du compte de la régie"
        verbose_name_plural = "changements du compte de la régie"
        ordering = ["-propose_le", "-pk"]
        permissions = [
            (
                "approuver_changementcompteregie",
                "Peut approuver ou refuser un changement du compte de la régie",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(decide_par__isnull=True) | ~Q(decide_par=F("propose_par")),
                name="changement_compte_quatre_yeux",
                violation_error_message="La personne qui a proposé le changement ne peut pas "
                "le décider.",
            ),
            models.CheckConstraint(
                condition=Q(statut=StatutChangementCompte.PROPOSE)
                | Q(decide_par__isnull=False, decide_le__isnull=False),
                name="changement_compte_decision_a_un_auteur",
            ),
            models.UniqueConstraint(
                fields=["etablissement"],
                condition=Q(statut=StatutChangementCompte.PROPOSE),
                name="changement_compte_un_seul_en_attente",
                violation_error_message="Un changement du compte de la régie est déjà en "
                "attente d'approbation.",
            ),
        ]

    def __str__(self) -> str:
        return f"Changement du compte de {self.etablissement.nom} ({self.get_statut_display()})"
