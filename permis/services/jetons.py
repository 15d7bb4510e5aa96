"""The tokens of the establishments' information systems."""

import datetime
import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from regie.exceptions import DroitsInsuffisants
from regie.models import Etablissement

from ..models import (
    JetonSystemeInformation,
)

PREFIXE_JETON = "pecule_si_"
DELAI_MISE_A_JOUR_USAGE = datetime.timedelta(minutes=5)


def empreinte_jeton(jeton_clair: str) -> str:
    return hashlib.sha256(jeton_clair.encode()).hexdigest()


@transaction.atomic
def creer_jeton(
    *, etablissement: Etablissement, nom: str, auteur
) -> tuple[JetonSystemeInformation, str]:
    """Create a token for an establishment's information system. Returns the record and
    the token in clear, which is shown once and never stored."""
    if auteur is None or not auteur.is_active or not auteur.is_superuser:
        raise DroitsInsuffisants("Seul un administrateur peut créer un jeton.")
    clair = PREFIXE_JETON + secrets.token_urlsafe(32)
    jeton = JetonSystemeInformation(
        etablissement=etablissement,
        nom=nom.strip(),
        cle_hash=empreinte_jeton(clair),
        prefixe=clair[: len(PREFIXE_JETON) + 6],
        cree_par=auteur,
    )
    jeton.full_clean()
    jeton.save()
    return jeton, clair


@transaction.atomic
def revoquer_jeton(*, jeton: JetonSystemeInformation, auteur) -> JetonSystemeInformation:
    """Revoke a token for good. Idempotent."""
    if auteur is None or not auteur.is_active or not auteur.is_superuser:
        raise DroitsInsuffisants("Seul un administrateur peut révoquer un jeton.")
    jeton = JetonSystemeInformation.objects.select_for_update().get(pk=jeton.pk)
    if jeton.revoque_le is None:
        jeton.revoque_le = timezone.now()
        jeton.save(update_fields=["revoque_le"])
    return jeton


def noter_usage_jeton(*, jeton: JetonSystemeInformation) -> None:
    """Record that the token was used (at most every few minutes, not at each request)."""
    maintenant = timezone.now()
    if jeton.dernier_usage is None or maintenant - jeton.dernier_usage > DELAI_MISE_A_JOUR_USAGE:
        JetonSystemeInformation.objects.filter(pk=jeton.pk).update(dernier_usage=maintenant)
        jeton.dernier_usage = maintenant
