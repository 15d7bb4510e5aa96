from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class StatutMessage(models.TextChoices):
    NOUVEAU = "nouveau", "Nouveau"
    EN_COURS = "en_cours", "En cours de traitement"
    TRAITE = "traite", "Traité"


class MessageContact(models.Model):
    """A message to the support team, sent from the « Contact » page."""

    proche = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="messages_contact",
        verbose_name="proche connecté",
    )
    email = models.EmailField("adresse électronique de réponse")
    sujet = models.CharField("sujet", max_length=150)
    message = models.TextField("message", max_length=5000)
    reference_virement = models.CharField("référence du virement", max_length=35, blank=True)
    envoye_le = models.DateTimeField("envoyé le", default=timezone.now)
    statut = models.CharField(
        "statut", max_length=20, choices=StatutMessage.choices, default=StatutMessage.NOUVEAU
    )
    note_interne = models.TextField("note interne de l'assistance", blank=True)

    class Meta:
        verbose_name = "message de contact"
        verbose_name_plural = "messages de contact"
        ordering = ["-envoye_le"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(sujet="") & ~Q(message=""), name="message_non_vide"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sujet} ({self.envoye_le:%d/%m/%Y})"
