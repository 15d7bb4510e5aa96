"""Visit permits (permis de visite) and the relatives' registrations of them.

- `PermisDeVisite`: the establishment's record of a permit, kept by staff in the admin,
  imported from CSV files, or sent by the establishment's information system (API).
- `PermisEnregistre`: a relative registered that permit on their account. It allows
  transfers only while the permit is valid (`PermisDeVisite.est_valide`), checked again
  at each transfer (`permis.selectors.permis_valide_pour_virement`).
- `TentativeEnregistrement`: every registration attempt, for rate limiting and audit.
- `JetonSystemeInformation`: the API token of an establishment's information system;
  only its SHA-256 hash is stored.
- `SignalementTransfert`: a transfer the information system reported; the régie moves
  the account (`regie.services.transferer_detenu`), never the API.
- `EvenementPermis`: append-only log of every change of a permit, with its author.

Every write goes through `permis.services`.
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from regie.models import Detenu, Etablissement
from socle.formats import de


def normaliser_numero(valeur: str) -> str:
    """A permit or écrou number as stored and compared: no spaces, upper case."""
    return "".join((valeur or "").split()).upper()


class StatutPermis(models.TextChoices):
    ACTIF = "actif", "Actif"
    SUSPENDU = "suspendu", "Suspendu"
    RETIRE = "retire", "Retiré"
    EXPIRE = "expire", "Expiré"


class EtatPermis(models.TextChoices):
    """What a permit allows on a given day, as shown to people (derived, not stored)."""

    VALIDE = "valide", "Actif"
    A_VENIR = "a_venir", "Pas encore valable"
    SUSPENDU = "suspendu", "Suspendu"
    RETIRE = "retire", "Retiré"
    EXPIRE = "expire", "Expiré"
    INUTILISABLE = "inutilisable", "Ne permet plus d'alimenter le pécule"


class PermisQuerySet(models.QuerySet):
    def valides(self, jour: datetime.date) -> "PermisQuerySet":
        """The permits that allow transfers on `jour`: the one definition, mirrored by
        `PermisDeVisite.est_valide`."""
        return self.filter(
            Q(date_fin__isnull=True) | Q(date_fin__gte=jour),
            Q(detenu__libere_le__isnull=True) | Q(detenu__libere_le__gt=jour),
            statut=StatutPermis.ACTIF,
            date_debut__lte=jour,
            detenu__etablissement=F("etablissement"),
        )


class PermisDeVisite(models.Model):
    """A permit as recorded by the establishment that issued it."""

    numero = models.CharField(
        "numéro du permis",
        max_length=40,
        help_text="Tel qu'imprimé sur le permis ; enregistré sans espaces, en majuscules.",
    )
    etablissement = models.ForeignKey(
        Etablissement,
        on_delete=models.PROTECT,
        related_name="permis_de_visite",
        verbose_name="établissement",
    )
    detenu = models.ForeignKey(
        Detenu,
        on_delete=models.PROTECT,
        related_name="permis_de_visite",
        verbose_name="personne détenue",
    )
    titulaire_nom = models.CharField("nom de naissance du titulaire", max_length=150)
    titulaire_prenoms = models.CharField(
        "prénoms du titulaire",
        max_length=150,
        help_text="Tous les prénoms de l'état civil, ou le premier, dans l'ordre.",
    )
    titulaire_date_naissance = models.DateField("date de naissance du titulaire")
    lien = models.CharField(
        "lien avec la personne détenue",
        max_length=100,
        blank=True,
        help_text="Facultatif : conjoint, parent, enfant, ami…",
    )
    date_debut = models.DateField("valable à partir du")
    date_fin = models.DateField(
        "valable jusqu'au (inclus)",
        null=True,
        blank=True,
        help_text="Laisser vide pour un permis sans date de fin.",
    )
    statut = models.CharField(
        "statut", max_length=20, choices=StatutPermis.choices, default=StatutPermis.ACTIF
    )
    motif_statut = models.CharField(
        "motif de la suspension ou du retrait",
        max_length=300,
        blank=True,
        help_text="Interne à l'administration ; n'est pas montré au proche.",
    )
    cree_le = models.DateTimeField("créé le", default=timezone.now, editable=False)
    modifie_le = models.DateTimeField("modifié le", auto_now=True)

    objects = PermisQuerySet.as_manager()

    class Meta:
        verbose_name = "permis de visite"
        verbose_name_plural = "permis de visite"
        ordering = ["etablissement", "numero"]
        constraints = [
            models.UniqueConstraint(
                fields=["etablissement", "numero"],
                name="permis_numero_unique_par_etablissement",
                violation_error_message="Ce numéro de permis existe déjà dans cet établissement.",
            ),
            models.CheckConstraint(
                condition=Q(date_fin__isnull=True) | Q(date_fin__gte=F("date_debut")),
                name="permis_dates_ordonnees",
                violation_error_message="La date de fin doit suivre la date de début.",
            ),
            models.CheckConstraint(
                condition=Q(statut__in=StatutPermis.values), name="permis_statut_connu"
            ),
            models.CheckConstraint(condition=~Q(numero=""), name="permis_numero_renseigne"),
        ]
        indexes = [models.Index(fields=["detenu", "statut"], name="permis_detenu_statut")]

    def __str__(self) -> str:
        return f"Permis n° {self.numero}"

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._detenu_id_initial = instance.__dict__.get("detenu_id")
        return instance

    def clean(self) -> None:
        self.numero = normaliser_numero(self.numero)
        erreurs = {}
        if self.date_debut and self.date_fin and self.date_fin < self.date_debut:
            erreurs["date_fin"] = "La date de fin doit être postérieure à la date de début."
        # A permit is issued where the detainee is held. Checked when the permit is created
        # or given another detainee: a later transfer does not make the record invalid (it
        # only stops the permit from allowing transfers, see `est_valide`).
        detenu_change = self._state.adding or self.detenu_id != getattr(
            self, "_detenu_id_initial", None
        )
        if detenu_change and self.detenu_id and self.etablissement_id:
            detenu = self.detenu
            if detenu.etablissement_id != self.etablissement_id:
                erreurs["detenu"] = (
                    "Cette personne détenue n'est pas écrouée dans l'établissement du permis."
                )
            elif detenu.libere_le is not None:
                erreurs["detenu"] = "Cette personne a été libérée."
        if erreurs:
            raise ValidationError(erreurs)

    def est_valide(self, jour: datetime.date) -> bool:
        """Whether the permit allows transfers on `jour` (mirror of `PermisQuerySet.valides`).

        Active, within its dates, the detainee not released and still held in the
        establishment that issued the permit.
        """
        return self.etat(jour) == EtatPermis.VALIDE

    def etat(self, jour: datetime.date) -> EtatPermis:
        if self.statut == StatutPermis.RETIRE:
            return EtatPermis.RETIRE
        if self.statut == StatutPermis.EXPIRE or (self.date_fin and self.date_fin < jour):
            return EtatPermis.EXPIRE
        if self.statut == StatutPermis.SUSPENDU:
            return EtatPermis.SUSPENDU
        detenu = self.detenu
        if (detenu.libere_le is not None and detenu.libere_le <= jour) or (
            detenu.etablissement_id != self.etablissement_id
        ):
            return EtatPermis.INUTILISABLE
        if self.date_debut > jour:
            return EtatPermis.A_VENIR
        return EtatPermis.VALIDE


class PermisEnregistre(models.Model):
    """A relative registered this permit on their account."""

    proche = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="permis_enregistres",
        verbose_name="proche",
    )
    permis = models.ForeignKey(
        PermisDeVisite,
        on_delete=models.PROTECT,
        related_name="enregistrements",
        verbose_name="permis de visite",
    )
    enregistre_le = models.DateTimeField("enregistré le", default=timezone.now)

    class Meta:
        verbose_name = "permis enregistré par un proche"
        verbose_name_plural = "permis enregistrés par les proches"
        ordering = ["-enregistre_le"]
        constraints = [
            models.UniqueConstraint(
                fields=["proche", "permis"],
                name="permis_enregistre_une_fois",
                violation_error_message="Ce permis de visite est déjà enregistré sur ce compte.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.permis} enregistré par {self.proche}"


class MotifTentative(models.TextChoices):
    ACCEPTE = "accepte", "Accepté"
    ETABLISSEMENT_INCONNU = "etablissement_inconnu", "Établissement inconnu"
    IDENTITE_DETENU_MANQUANTE = "identite_detenu_manquante", "Identité de la personne manquante"
    PERMIS_INTROUVABLE = "permis_introuvable", "Aucun permis de ce numéro"
    DETENU_DIFFERENT = "detenu_different", "Identité de la personne détenue différente"
    TITULAIRE_DIFFERENT = "titulaire_different", "Titulaire différent"
    PERMIS_INACTIF = "permis_inactif", "Permis suspendu, retiré ou expiré"
    PERMIS_A_VENIR = "permis_a_venir", "Permis pas encore valable"
    PERMIS_INUTILISABLE = "permis_inutilisable", "Personne libérée ou transférée"
    DEJA_ENREGISTRE = "deja_enregistre", "Déjà enregistré"
    TROP_DE_TENTATIVES = "trop_de_tentatives", "Trop de tentatives"


class TentativeEnregistrement(models.Model):
    """One attempt at « Ajouter un permis de visite », accepted or not.

    `motif` is precise (for audit); the relative was only told the generic reason.
    `cle_adresse` is what the per-address limit counts: the IPv4 address, or the /64
    network of an IPv6 address.
    """

    proche = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="proche",
    )
    adresse_ip = models.GenericIPAddressField("adresse IP")
    cle_adresse = models.CharField("adresse comptée", max_length=64)
    quand = models.DateTimeField("date", default=timezone.now)
    succes = models.BooleanField("accepté")
    motif = models.CharField("motif", max_length=40, choices=MotifTentative.choices)
    numero_saisi = models.CharField("numéro saisi", max_length=100, blank=True)
    etablissement = models.ForeignKey(
        Etablissement,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="établissement saisi",
    )
    permis = models.ForeignKey(
        PermisDeVisite,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="permis trouvé",
    )

    class Meta:
        verbose_name = "tentative d'enregistrement de permis"
        verbose_name_plural = "tentatives d'enregistrement de permis"
        ordering = ["-quand"]
        indexes = [
            models.Index(fields=["proche", "quand"], name="tentative_proche_quand"),
            models.Index(fields=["cle_adresse", "quand"], name="tentative_adresse_quand"),
        ]

    def __str__(self) -> str:
        return f"Tentative du {self.quand:%d/%m/%Y %H:%M} : {self.get_motif_display()}"


class JetonSystemeInformation(models.Model):
    """The API token of an establishment's information system.

    Only the SHA-256 hash of the token is stored; the token itself is shown once, when
    it is created (`permis.services.creer_jeton`).
    """

    etablissement = models.ForeignKey(
        Etablissement,
        on_delete=models.PROTECT,
        related_name="jetons_systeme_information",
        verbose_name="établissement",
    )
    nom = models.CharField(
        "nom", max_length=100, help_text="Le système qui l'utilise, par exemple « GENESIS »."
    )
    cle_hash = models.CharField("empreinte SHA-256", max_length=64, unique=True, editable=False)
    prefixe = models.CharField(
        "début du jeton",
        max_length=16,
        editable=False,
        help_text="Pour reconnaître le jeton sans le révéler.",
    )
    cree_le = models.DateTimeField("créé le", default=timezone.now, editable=False)
    cree_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="créé par",
        editable=False,
    )
    revoque_le = models.DateTimeField("révoqué le", null=True, blank=True, editable=False)
    dernier_usage = models.DateTimeField(
        "dernière utilisation", null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = "jeton de système d'information"
        verbose_name_plural = "jetons de systèmes d'information"
        ordering = ["etablissement", "-cree_le"]

    def __str__(self) -> str:
        return f"{self.nom} – {self.etablissement.code} ({self.prefixe}…)"

    @property
    def actif(self) -> bool:
        return self.revoque_le is None


class SignalementTransfert(models.Model):
    """The information system of `etablissement_destination` reported a detainee held
    (in Pécule) in `etablissement_origine`. The API does not move money: the régisseur
    performs the transfer of the compte nominatif; the report is then done."""

    detenu = models.ForeignKey(
        Detenu, on_delete=models.PROTECT, related_name="+", verbose_name="personne détenue"
    )
    etablissement_origine = models.ForeignKey(
        Etablissement,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="établissement d'origine",
    )
    etablissement_destination = models.ForeignKey(
        Etablissement,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="établissement de destination",
    )
    nouveau_numero_ecrou = models.CharField("nouveau numéro d'écrou", max_length=20)
    donnees = models.JSONField("données reçues", default=dict)
    jeton = models.ForeignKey(
        JetonSystemeInformation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="jeton",
    )
    signale_le = models.DateTimeField("signalé le", default=timezone.now)
    dernier_signalement = models.DateTimeField("dernier signalement", default=timezone.now)

    class Meta:
        verbose_name = "transfert signalé par un système d'information"
        verbose_name_plural = "transferts signalés par les systèmes d'information"
        ordering = ["-dernier_signalement"]
        constraints = [
            models.UniqueConstraint(
                fields=["detenu", "etablissement_destination", "nouveau_numero_ecrou"],
                name="signalement_transfert_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"Transfert signalé {de(str(self.detenu))} vers {self.etablissement_destination}"

    @property
    def effectue(self) -> bool:
        return self.detenu.etablissement_id == self.etablissement_destination_id


class ActionPermis(models.TextChoices):
    CREATION = "creation", "Création"
    MODIFICATION = "modification", "Modification"
    SUSPENSION = "suspension", "Suspension"
    RETRAIT = "retrait", "Retrait"
    REACTIVATION = "reactivation", "Réactivation"
    EXPIRATION = "expiration", "Expiration"


class EvenementPermis(models.Model):
    """Append-only log of a permit: who did what, when."""

    permis = models.ForeignKey(PermisDeVisite, on_delete=models.PROTECT, related_name="evenements")
    quand = models.DateTimeField("date", default=timezone.now)
    action = models.CharField("action", max_length=20, choices=ActionPermis.choices)
    auteur = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="auteur",
    )
    jeton = models.ForeignKey(
        JetonSystemeInformation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="système d'information",
    )
    auteur_systeme = models.CharField("traitement automatique", max_length=100, blank=True)
    details = models.TextField("détails", blank=True)

    class Meta:
        verbose_name = "événement d'un permis"
        verbose_name_plural = "événements des permis"
        ordering = ["quand", "pk"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} le {self.quand:%d/%m/%Y %H:%M}"

    @property
    def auteur_affiche(self) -> str:
        if self.auteur_id:
            return str(self.auteur)
        if self.jeton_id:
            return f"Système d'information : {self.jeton.nom}"
        return self.auteur_systeme or "Système"
