"""A relative's request for the PDF statement of their transfers, and its file.

The file lives under MEDIA_ROOT/releves/ and is served only through Django, to the
relative who asked (`pecule.releves.views.telecharger`), never by a public media URL.
Rows and files are deleted after the retention period (`expire_le`).
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from regie.models import MONEY, Detenu


def chemin_releve(releve: "ReleveProche", _nom: str) -> str:
    """An unguessable file name, grouped by relative (the name is never shown)."""
    return f"releves/{releve.proche_id}/{secrets.token_hex(16)}.pdf"


class StatutReleve(models.TextChoices):
    DEMANDE = "demande", "En préparation"
    PRET = "pret", "Prêt"
    ERREUR = "erreur", "Échec de la préparation"


class ReleveProche(models.Model):
    proche = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="releves",
        verbose_name="proche",
    )
    detenu = models.ForeignKey(
        Detenu,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="personne détenue",
        help_text="Vide : les virements à toutes les personnes détenues.",
    )
    debut = models.DateTimeField("début de la période")
    fin = models.DateTimeField("fin de la période")
    statut = models.CharField(
        "statut", max_length=20, choices=StatutReleve.choices, default=StatutReleve.DEMANDE
    )
    fichier = models.FileField("fichier", upload_to=chemin_releve, blank=True)
    code_verification = models.CharField(
        "code de vérification",
        max_length=64,
        blank=True,
        db_index=True,
        help_text="SHA-256 des données du relevé (JSON canonique) ; le PDF en imprime les "
        "16 premiers caractères.",
    )
    empreinte_fichier = models.CharField(
        "empreinte du fichier", max_length=64, blank=True, help_text="SHA-256 du PDF."
    )
    donnees = models.JSONField("données du relevé", null=True, blank=True, editable=False)
    nombre_virements = models.PositiveIntegerField("virements", null=True, blank=True)
    total = models.DecimalField("total des virements", null=True, blank=True, **MONEY)
    erreur = models.TextField("erreur", blank=True)
    demande_le = models.DateTimeField("demandé le", default=timezone.now)
    pret_le = models.DateTimeField("émis le", null=True, blank=True)
    expire_le = models.DateTimeField("supprimé après le")

    class Meta:
        verbose_name = "relevé PDF d'un proche"
        verbose_name_plural = "relevés PDF des proches"
        ordering = ["-demande_le", "-pk"]
        indexes = [
            models.Index(fields=["proche", "demande_le"]),
            models.Index(fields=["statut", "demande_le"]),
            models.Index(fields=["expire_le"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(statut=StatutReleve.PRET)
                | (
                    ~Q(fichier="")
                    & Q(pret_le__isnull=False)
                    & ~Q(code_verification="")
                    & ~Q(empreinte_fichier="")
                ),
                name="releve_pret_a_un_fichier",
            ),
            models.CheckConstraint(condition=Q(debut__lte=F("fin")), name="releve_periode"),
        ]

    def __str__(self) -> str:
        return f"Relevé n° {self.pk} de {self.proche} ({self.get_statut_display().lower()})"

    @property
    def code_court(self) -> str:
        """The code printed on the PDF: the first 16 hex digits, by groups of four."""
        code = self.code_verification[:16].upper()
        return "-".join(code[i : i + 4] for i in range(0, len(code), 4))
