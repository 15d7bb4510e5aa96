"""Relatives' transfers: payment initiation through a provider, its notifications, the
crediting of the compte nominatif, and the reconciliation with the régie's bank.

A transfer (`Virement`) carries two states:
- `statut_paiement`: the provider's normalised status (03-paiements.md): initie,
  autorise, execute, refuse, annule, expire; the last four are final and never change;
- `statut_regie`: what the régie did with executed money: a_crediter, credite, a_traiter
  (held for the régisseur: cap, permit, detainee), retourne.
What the relative sees is derived from both (`etat_proche`).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from regie.models import MONEY, STATUTS_ECHEC, Detenu, Ecriture, Etablissement, OrdreVirement
from socle.formats import euros
from socle.references import reference_lisible

from ..fournisseurs.base import StatutPaiement


def nouvelle_reference() -> str:
    """A short reference people can read out on the phone: PEC-XXXX-XXXX."""
    return reference_lisible("PEC")


STATUTS_FINAUX = frozenset(
    {StatutPaiement.EXECUTE, StatutPaiement.REFUSE, StatutPaiement.ANNULE, StatutPaiement.EXPIRE}
)
RANG_STATUT = {
    StatutPaiement.INITIE: 0,
    StatutPaiement.AUTORISE: 1,
    StatutPaiement.EXECUTE: 2,
    StatutPaiement.REFUSE: 2,
    StatutPaiement.ANNULE: 2,
    StatutPaiement.EXPIRE: 2,
}


class StatutRegie(models.TextChoices):
    AUCUN = "aucun", "—"
    A_CREDITER = "a_crediter", "À créditer"
    CREDITE = "credite", "Crédité"
    A_TRAITER = "a_traiter", "À traiter par le régisseur"
    RETOURNE = "retourne", "Retourné à l'émetteur"


class EtatProche(models.TextChoices):
    """The states a relative sees (02-parcours-proche.md), word for word."""

    EN_ATTENTE = "en_attente", "En attente de validation bancaire"
    CONFIRME = "confirme", "Confirmé par la banque"
    CREDITE = "credite", "Crédité sur le compte nominatif"
    REFUSE = "refuse", "Refusé"
    ANNULE = "annule", "Annulé"
    EXPIRE = "expire", "Expiré"
    RETOURNE = "retourne", "Retourné à l'émetteur"


# A returned transfer whose return order was refused or rejected by the bank: its money is
# back on the régie's account, waiting for the régisseur again.
RETOUR_EN_ECHEC = Q(statut_regie=StatutRegie.RETOURNE, ordre_retour__statut__in=STATUTS_ECHEC)
# The « à traiter » queue: held transfers, and returns that failed. Defined once.
A_TRAITER = Q(statut_regie=StatutRegie.A_TRAITER) | RETOUR_EN_ECHEC


class VirementQuerySet(models.QuerySet):
    def a_traiter(self):
        return self.filter(A_TRAITER)


class Virement(models.Model):
    reference = models.CharField(
        "référence", max_length=20, unique=True, default=nouvelle_reference, editable=False
    )
    cle_idempotence = models.CharField(
        "clé d'idempotence",
        max_length=64,
        unique=True,
        help_text="Jeton du formulaire « Réaliser le virement » : un double clic ne crée "
        "jamais deux paiements.",
    )
    proche = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="virements"
    )
    permis = models.ForeignKey(
        "permis.PermisDeVisite", on_delete=models.PROTECT, related_name="virements"
    )
    detenu = models.ForeignKey(Detenu, on_delete=models.PROTECT, related_name="virements")
    etablissement = models.ForeignKey(
        Etablissement,
        on_delete=models.PROTECT,
        related_name="virements",
        help_text="La régie dont le compte bancaire reçoit le virement.",
    )
    montant = models.DecimalField("montant", **MONEY)
    fournisseur = models.CharField("prestataire de paiement", max_length=30)
    id_fournisseur = models.CharField(
        "identifiant chez le prestataire", max_length=100, null=True, blank=True
    )
    url_banque = models.URLField("adresse de la page de la banque", max_length=1000, blank=True)
    expire_le = models.DateTimeField("expire le", null=True, blank=True)
    creation_en_cours_depuis = models.DateTimeField(
        "création chez le prestataire en cours depuis",
        null=True,
        blank=True,
        help_text="Le paiement est demandé au prestataire ; vide une fois créé ou si le "
        "prestataire n'a pas répondu.",
    )
    statut_paiement = models.CharField(
        "statut du paiement",
        max_length=20,
        choices=StatutPaiement.choices,
        default=StatutPaiement.INITIE,
    )
    statut_brut = models.CharField("statut du prestataire", max_length=60, blank=True)
    motif = models.CharField("motif", max_length=300, blank=True)
    statut_regie = models.CharField(
        "traitement par la régie",
        max_length=20,
        choices=StatutRegie.choices,
        default=StatutRegie.AUCUN,
    )
    motif_a_traiter = models.CharField("raison de la mise en attente", max_length=300, blank=True)
    a_verifier = models.BooleanField(
        "à vérifier",
        default=False,
        help_text="Le prestataire a annoncé un succès après un échec : non appliqué, à "
        "vérifier par un régisseur.",
    )
    ecriture = models.OneToOneField(
        Ecriture, on_delete=models.PROTECT, null=True, blank=True, related_name="virement"
    )
    iban_payeur = models.CharField(
        "IBAN du payeur",
        max_length=34,
        blank=True,
        help_text="Le compte d'où vient l'argent, tel que le prestataire l'a donné.",
    )
    ordre_retour = models.ForeignKey(
        OrdreVirement,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="ordre de retour",
        help_text="Le virement de la régie qui rend l'argent à l'émetteur (le dernier).",
    )
    motif_retour = models.CharField("motif du retour", max_length=300, blank=True)
    cree_le = models.DateTimeField("créé le", default=timezone.now)
    maj_le = models.DateTimeField("mis à jour le", auto_now=True)
    execute_le = models.DateTimeField("exécuté le", null=True, blank=True)
    prochaine_verification = models.DateTimeField(
        "prochaine interrogation du prestataire", null=True, blank=True
    )
    verifications = models.PositiveIntegerField("interrogations du prestataire", default=0)

    objects = VirementQuerySet.as_manager()

    class Meta:
        verbose_name = "virement"
        verbose_name_plural = "virements"
        ordering = ["-cree_le"]
        indexes = [
            models.Index(fields=["proche", "cree_le"]),
            models.Index(fields=["statut_paiement", "prochaine_verification"]),
            models.Index(fields=["statut_regie"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(montant__gt=0), name="virement_montant_positif"),
            models.UniqueConstraint(
                fields=["fournisseur", "id_fournisseur"], name="virement_id_fournisseur_unique"
            ),
            models.CheckConstraint(
                condition=Q(statut_regie=StatutRegie.AUCUN)
                | Q(statut_paiement=StatutPaiement.EXECUTE),
                name="virement_regie_seulement_si_execute",
            ),
            models.CheckConstraint(
                condition=~Q(statut_regie=StatutRegie.CREDITE) | Q(ecriture__isnull=False),
                name="virement_credite_a_une_ecriture",
            ),
            models.CheckConstraint(
                condition=~Q(statut_regie=StatutRegie.RETOURNE) | Q(ordre_retour__isnull=False),
                name="virement_retourne_a_un_ordre",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} – {euros(self.montant)}"

    @property
    def est_final(self) -> bool:
        return self.statut_paiement in STATUTS_FINAUX

    @property
    def est_a_traiter(self) -> bool:
        """In the « à traiter » queue (`A_TRAITER`, as a property of one row)."""
        return self.statut_regie == StatutRegie.A_TRAITER or self.retour_en_echec

    @property
    def retour_en_echec(self) -> bool:
        return (
            self.statut_regie == StatutRegie.RETOURNE
            and self.ordre_retour is not None
            and self.ordre_retour.en_echec
        )

    @property
    def etat_proche(self) -> EtatProche:
        if self.statut_paiement in (StatutPaiement.INITIE, StatutPaiement.AUTORISE):
            return EtatProche.EN_ATTENTE
        if self.statut_paiement == StatutPaiement.REFUSE:
            return EtatProche.REFUSE
        if self.statut_paiement == StatutPaiement.ANNULE:
            return EtatProche.ANNULE
        if self.statut_paiement == StatutPaiement.EXPIRE:
            return EtatProche.EXPIRE
        if self.statut_regie == StatutRegie.CREDITE:
            return EtatProche.CREDITE
        if self.statut_regie == StatutRegie.RETOURNE and not self.retour_en_echec:
            return EtatProche.RETOURNE
        return EtatProche.CONFIRME


class EvenementVirement(models.Model):
    """Append-only history of a transfer: every status change and who or what made it."""

    virement = models.ForeignKey(Virement, on_delete=models.PROTECT, related_name="evenements")
    quand = models.DateTimeField(default=timezone.now)
    source = models.CharField("origine", max_length=40)
    avant = models.CharField(max_length=40, blank=True)
    apres = models.CharField(max_length=40, blank=True)
    details = models.TextField(blank=True)
    auteur = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = "étape d'un virement"
        verbose_name_plural = "étapes des virements"
        ordering = ["quand", "pk"]

    def __str__(self) -> str:
        return f"{self.source}: {self.avant} → {self.apres}"


class NotificationRecue(models.Model):
    """The inbox: each signed notification, stored raw before anything else happens."""

    fournisseur = models.CharField(max_length=30)
    id_evenement = models.CharField("identifiant de l'événement", max_length=100)
    corps = models.TextField("corps brut")
    recue_le = models.DateTimeField(default=timezone.now)
    mise_en_file_le = models.DateTimeField(
        "dernière mise en file",
        null=True,
        blank=True,
        help_text="Quand son traitement a été confié au courtier pour la dernière fois.",
    )
    traitee_le = models.DateTimeField(null=True, blank=True)
    abandonnee_le = models.DateTimeField(
        "abandonnée le",
        null=True,
        blank=True,
        help_text="Erreur définitive du prestataire ou trop de tentatives : à examiner.",
    )
    tentatives = models.PositiveIntegerField(default=0)
    derniere_erreur = models.TextField(blank=True)
    traitement_depuis = models.DateTimeField(
        "traitement commencé le",
        null=True,
        blank=True,
        help_text="Quand sa tâche l'a prise pour la dernière fois.",
    )
    reservee_jusqu_au = models.DateTimeField(
        "réservée jusqu'au",
        null=True,
        blank=True,
        help_text="Prise par un lot de traitement jusqu'à cette heure (reprise ensuite).",
    )

    class Meta:
        verbose_name = "notification reçue"
        verbose_name_plural = "notifications reçues"
        ordering = ["-recue_le"]
        constraints = [
            models.UniqueConstraint(
                fields=["fournisseur", "id_evenement"], name="notification_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["traitee_le", "recue_le"]),
            # The batches' query: the rows still to process, oldest first.
            models.Index(
                fields=["recue_le"],
                condition=Q(traitee_le__isnull=True, abandonnee_le__isnull=True),
                name="notification_a_traiter",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.fournisseur}:{self.id_evenement}"


class NotificationRejetee(models.Model):
    """Notifications refused at the door (bad, missing or stale signature, a body the
    portal cannot use), **aggregated**: one row per provider, reason, address and hour,
    with how many came (`nombre`), the first body's start and the last arrival. Rows are
    deleted after PECULE_RETENTION_REJETS_JOURS (`pecule.tasks.supprimer_rejets_anciens`),
    so refused requests never grow the table without bound."""

    fournisseur = models.CharField(max_length=30)
    recue_le = models.DateTimeField("première reçue le", default=timezone.now)
    periode = models.DateTimeField(
        "heure", help_text="Début de l'heure où ces rejets sont comptés."
    )
    derniere_le = models.DateTimeField("dernière reçue le", default=timezone.now)
    nombre = models.PositiveIntegerField("nombre de rejets", default=1)
    motif = models.CharField(max_length=100)
    adresse_ip = models.GenericIPAddressField(null=True, blank=True)
    extrait = models.TextField("début du premier corps", blank=True)

    class Meta:
        verbose_name = "notification rejetée"
        verbose_name_plural = "notifications rejetées"
        ordering = ["-recue_le"]
        constraints = [
            models.UniqueConstraint(
                fields=["fournisseur", "motif", "adresse_ip", "periode"],
                nulls_distinct=False,
                name="notification_rejetee_par_heure",
            ),
        ]
        indexes = [models.Index(fields=["derniere_le"])]

    def __str__(self) -> str:
        return f"{self.fournisseur} {self.motif} ×{self.nombre}"


class CourrielSortant(models.Model):
    """The outbox: written in the same transaction as the change it announces, sent by
    a task, never twice (unique `cle`, `envoye_le` set under a row lock)."""

    cle = models.CharField(max_length=100, unique=True)
    destinataire = models.EmailField()
    sujet = models.CharField(max_length=200)
    corps = models.TextField()
    cree_le = models.DateTimeField(default=timezone.now)
    envoye_le = models.DateTimeField(null=True, blank=True)
    tentatives = models.PositiveIntegerField(default=0)
    derniere_erreur = models.TextField(blank=True)

    class Meta:
        verbose_name = "courriel sortant"
        verbose_name_plural = "courriels sortants"
        ordering = ["-cree_le"]
        indexes = [
            # The outbox's query: the emails still to send, oldest first.
            models.Index(
                fields=["cree_le"],
                condition=Q(envoye_le__isnull=True),
                name="courriel_a_envoyer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sujet} → {self.destinataire}"
