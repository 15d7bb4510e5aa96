from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q


class Utilisateur(AbstractUser):
    """Everyone who logs in: staff (admin, own password) or relatives (FranceConnect only).

    A relative is identified only by the FranceConnect `sub`; their identity fields are
    copied from FranceConnect at each login and are never editable by them. The database
    forbids a FranceConnect identity on a staff account, so a relative can never be staff.
    """

    fc_sub = models.CharField(
        "identifiant FranceConnect (sub)", max_length=255, unique=True, null=True, blank=True
    )
    fc_given_name = models.CharField("prénoms", max_length=255, blank=True)
    fc_family_name = models.CharField("nom de naissance", max_length=255, blank=True)
    fc_birthdate = models.DateField("date de naissance", null=True, blank=True)
    fc_birthplace = models.CharField("lieu de naissance (code COG)", max_length=10, blank=True)
    fc_birthcountry = models.CharField("pays de naissance (code COG)", max_length=10, blank=True)

    class Meta:
        verbose_name = "utilisateur"
        verbose_name_plural = "utilisateurs"
        constraints = [
            models.CheckConstraint(
                condition=Q(fc_sub__isnull=True) | Q(is_staff=False, is_superuser=False),
                name="proche_jamais_personnel",
                violation_error_message="Un compte FranceConnect ne peut pas être un compte du personnel.",
            ),
        ]

    def __str__(self) -> str:
        """A relative by the name FranceConnect certified, a staff member by name: never
        a technical identifier (a relative's username is an opaque `fc-…` code)."""
        if self.fc_sub:
            return f"{self.fc_given_name} {self.fc_family_name}".strip() or "Proche"
        return self.get_full_name() or self.get_username()

    @property
    def est_proche(self) -> bool:
        return self.fc_sub is not None
