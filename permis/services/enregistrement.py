"""« Ajouter un permis de visite »: a relative registers a permit issued to them, checked
against the permit, the detainee and their FranceConnect identity; attempts recorded and
rate-limited."""

import datetime
import ipaddress
import math

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from regie.models import Detenu, Etablissement
from socle.dates import aujourdhui

from ..exceptions import (
    PermisRefuse,
    TropDeTentatives,
)
from ..identite import nom_de_detenu_concorde, titulaire_concorde
from ..models import (
    EtatPermis,
    MotifTentative,
    PermisDeVisite,
    PermisEnregistre,
    TentativeEnregistrement,
    normaliser_numero,
)

# --- Rate limiting of « Ajouter un permis de visite » ------------------------------------
# Overridable in the settings: PERMIS_LIMITE_ECHECS_PAR_PROCHE, PERMIS_LIMITE_ECHECS_PAR_ADRESSE,
# PERMIS_FENETRE_TENTATIVES (a timedelta).
LIMITE_ECHECS_PAR_PROCHE = 5
LIMITE_ECHECS_PAR_ADRESSE = 20
FENETRE_TENTATIVES = datetime.timedelta(hours=1)
# Refusals that say nothing about a permit the relative does not hold, and do not count.
MOTIFS_NON_COMPTES = [MotifTentative.TROP_DE_TENTATIVES, MotifTentative.DEJA_ENREGISTRE]

# --- Messages shown to the relative -----------------------------------------------------
# One message for "no such permit", "another detainee" and "another holder": a relative
# learns nothing about a detainee or a permit that is not theirs.
MESSAGE_VERIFICATION_IMPOSSIBLE = (
    "Nous n'avons pas pu vérifier ce permis de visite. Vérifiez le numéro du permis, "
    "l'établissement et l'identité de la personne détenue tels qu'ils figurent sur le "
    "permis, qui doit être établi à votre nom."
)
CODE_VERIFICATION_IMPOSSIBLE = "verification_impossible"
# Only once the permit matched the relative's identity:
MESSAGE_PERMIS_INACTIF = (
    "Ce permis de visite n'est pas actif (suspendu, retiré ou expiré) : il ne permet pas "
    "d'alimenter le pécule. Pour toute question, adressez-vous à l'établissement qui l'a délivré."
)
MESSAGE_PERMIS_A_VENIR = (
    "Ce permis de visite n'est valable qu'à partir du {date:%d/%m/%Y}. "
    "Vous pourrez l'ajouter à partir de cette date."
)
MESSAGE_PERMIS_INUTILISABLE = (
    "Ce permis de visite ne permet pas, à ce jour, d'alimenter le pécule de cette personne. "
    "Pour toute question, adressez-vous à l'établissement qui l'a délivré."
)
MESSAGE_DEJA_ENREGISTRE = "Ce permis de visite est déjà enregistré sur votre compte."
MESSAGE_ETABLISSEMENT_INCONNU = "Choisissez l'établissement dans la liste."
MESSAGE_IDENTITE_MANQUANTE = (
    "Indiquez le numéro d'écrou de la personne détenue, ou son nom et sa date de naissance, "
    "tels qu'ils figurent sur le permis."
)


def cle_adresse(adresse_ip: str) -> str:
    """What the per-address limit counts: an IPv4 address, or the /64 network of an IPv6
    one (a single subscriber usually holds a whole /64). Raises ValueError if invalid."""
    adresse = ipaddress.ip_address(str(adresse_ip).strip())
    if adresse.version == 6:
        if adresse.ipv4_mapped is not None:
            return str(adresse.ipv4_mapped)
        return str(ipaddress.ip_network(f"{adresse}/64", strict=False))
    return str(adresse)


def _verifier_proche(proche) -> None:
    if (
        proche is None
        or not getattr(proche, "is_authenticated", False)
        or not proche.is_active
        or proche.is_staff
        or proche.is_superuser
        or not getattr(proche, "fc_sub", None)
    ):
        raise ValueError("Only an active relative logged in with FranceConnect may add a permit.")


def _limites() -> tuple[int, int, datetime.timedelta]:
    return (
        getattr(settings, "PERMIS_LIMITE_ECHECS_PAR_PROCHE", LIMITE_ECHECS_PAR_PROCHE),
        getattr(settings, "PERMIS_LIMITE_ECHECS_PAR_ADRESSE", LIMITE_ECHECS_PAR_ADRESSE),
        getattr(settings, "PERMIS_FENETRE_TENTATIVES", FENETRE_TENTATIVES),
    )


def _message_attente(attente: datetime.timedelta) -> str:
    minutes = max(1, math.ceil(attente.total_seconds() / 60))
    duree = "1 minute" if minutes == 1 else f"{minutes} minutes"
    return (
        "Vous avez fait trop de tentatives infructueuses d'ajout de permis de visite. "
        f"Réessayez dans {duree}."
    )


def _verifier_limites(proche, cle: str, maintenant: datetime.datetime) -> None:
    """Raise TropDeTentatives if the relative, or the address, used up its failures."""
    limite_proche, limite_adresse, fenetre = _limites()
    echecs = TentativeEnregistrement.objects.filter(
        succes=False, quand__gt=maintenant - fenetre
    ).exclude(motif__in=MOTIFS_NON_COMPTES)
    attentes = []
    for filtre, limite in (
        ({"proche": proche}, limite_proche),
        ({"cle_adresse": cle}, limite_adresse),
    ):
        # Attempts are allowed again when the limit-th most recent failure leaves the window.
        borne = (
            echecs.filter(**filtre)
            .order_by("-quand")
            .values_list("quand", flat=True)[limite - 1 : limite]
        )
        if borne:
            attentes.append(borne[0] + fenetre - maintenant)
    if attentes:
        attente = max(attentes)
        raise TropDeTentatives(_message_attente(attente), attente=attente)


def _verrouiller_tentatives(proche, cle: str) -> None:
    """Serialise the attempts of one relative, and of one address, so that concurrent
    attempts cannot all slip under the limits."""
    list(
        get_user_model()
        .objects.select_for_update()
        .filter(pk=proche.pk)
        .values_list("pk", flat=True)
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as curseur:
            curseur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"permis:{cle}"])


def _refus(motif: str, message: str, code: str | None = None) -> PermisRefuse:
    exc = PermisRefuse(message, code or motif)
    exc.motif = motif
    return exc


def _refus_generique(motif: str) -> PermisRefuse:
    return _refus(motif, MESSAGE_VERIFICATION_IMPOSSIBLE, CODE_VERIFICATION_IMPOSSIBLE)


def _detenu_concorde(detenu: Detenu, ecrou: str, nom: str, date_naissance) -> bool:
    """Every element the relative gave must match (at least one way was checked before)."""
    if ecrou and ecrou != normaliser_numero(detenu.numero_ecrou):
        return False
    if nom.strip() and not nom_de_detenu_concorde(nom, detenu.nom, detenu.prenoms):
        return False
    return not (date_naissance and date_naissance != detenu.date_naissance)


def _resoudre_etablissement(etablissement, etablissement_code: str) -> Etablissement:
    if etablissement is not None:
        return etablissement
    trouve = Etablissement.objects.filter(code=(etablissement_code or "").strip()).first()
    if trouve is None:
        raise _refus(MotifTentative.ETABLISSEMENT_INCONNU, MESSAGE_ETABLISSEMENT_INCONNU)
    return trouve


def _verifier_et_enregistrer(
    *,
    proche,
    tentative: TentativeEnregistrement,
    numero: str,
    etablissement,
    etablissement_code: str,
    numero_ecrou: str,
    nom_detenu: str,
    date_naissance_detenu,
    jour: datetime.date,
) -> PermisEnregistre:
    etablissement = _resoudre_etablissement(etablissement, etablissement_code)
    tentative.etablissement = etablissement
    ecrou = normaliser_numero(numero_ecrou)
    nom_detenu = nom_detenu or ""
    if not ecrou and not (nom_detenu.strip() and date_naissance_detenu):
        raise _refus(MotifTentative.IDENTITE_DETENU_MANQUANTE, MESSAGE_IDENTITE_MANQUANTE)
    numero = normaliser_numero(numero)
    permis = (
        PermisDeVisite.objects.select_related("detenu")
        .filter(etablissement=etablissement, numero=numero)
        .first()
        if numero
        else None
    )
    if permis is None:
        raise _refus_generique(MotifTentative.PERMIS_INTROUVABLE)
    tentative.permis = permis
    if not _detenu_concorde(permis.detenu, ecrou, nom_detenu, date_naissance_detenu):
        raise _refus_generique(MotifTentative.DETENU_DIFFERENT)
    if not titulaire_concorde(permis, proche):
        raise _refus_generique(MotifTentative.TITULAIRE_DIFFERENT)
    # From here on the relative holds this permit: the messages may be specific.
    if PermisEnregistre.objects.filter(proche=proche, permis=permis).exists():
        raise _refus(MotifTentative.DEJA_ENREGISTRE, MESSAGE_DEJA_ENREGISTRE)
    etat = permis.etat(jour)
    if etat in (EtatPermis.SUSPENDU, EtatPermis.RETIRE, EtatPermis.EXPIRE):
        raise _refus(MotifTentative.PERMIS_INACTIF, MESSAGE_PERMIS_INACTIF)
    if etat == EtatPermis.A_VENIR:
        raise _refus(
            MotifTentative.PERMIS_A_VENIR, MESSAGE_PERMIS_A_VENIR.format(date=permis.date_debut)
        )
    if etat == EtatPermis.INUTILISABLE:
        raise _refus(MotifTentative.PERMIS_INUTILISABLE, MESSAGE_PERMIS_INUTILISABLE)
    try:
        with transaction.atomic():
            return PermisEnregistre.objects.create(proche=proche, permis=permis)
    except IntegrityError:
        raise _refus(MotifTentative.DEJA_ENREGISTRE, MESSAGE_DEJA_ENREGISTRE) from None


def enregistrer_permis(
    *,
    proche,
    numero: str,
    adresse_ip: str,
    etablissement: Etablissement | None = None,
    etablissement_code: str = "",
    numero_ecrou: str = "",
    nom_detenu: str = "",
    date_naissance_detenu: datetime.date | None = None,
    jour: datetime.date | None = None,
) -> PermisEnregistre:
    """« Ajouter un permis de visite »: register on the relative's account a permit that
    exists in that establishment, matches the detainee's identity given (écrou, or name
    and birth date), is valid today, and is issued to the relative's FranceConnect
    identity. Every attempt is recorded; failures are rate-limited per relative and per
    address.

    Raises PermisRefuse (TropDeTentatives when rate-limited) with a French message safe to
    show; ValueError if `proche` is not a FranceConnect relative or the address is invalid.
    """
    _verifier_proche(proche)
    cle = cle_adresse(adresse_ip)
    jour = jour or aujourdhui()
    maintenant = timezone.now()
    tentative = TentativeEnregistrement(
        proche=proche,
        adresse_ip=str(ipaddress.ip_address(str(adresse_ip).strip())),
        cle_adresse=cle,
        quand=maintenant,
        numero_saisi=(numero or "")[:100],
    )
    refus = enregistrement = None
    with transaction.atomic():
        _verrouiller_tentatives(proche, cle)
        try:
            _verifier_limites(proche, cle, maintenant)
            with transaction.atomic():
                enregistrement = _verifier_et_enregistrer(
                    proche=proche,
                    tentative=tentative,
                    numero=numero,
                    etablissement=etablissement,
                    etablissement_code=etablissement_code,
                    numero_ecrou=numero_ecrou,
                    nom_detenu=nom_detenu,
                    date_naissance_detenu=date_naissance_detenu,
                    jour=jour,
                )
        except PermisRefuse as exc:
            refus = exc
        tentative.succes = refus is None
        tentative.motif = (
            MotifTentative.ACCEPTE if refus is None else getattr(refus, "motif", refus.code)
        )
        tentative.save()
    if isinstance(refus, TropDeTentatives):
        raise refus
    if refus is not None:
        # A fresh exception: the precise reason stays in the audit record.
        raise PermisRefuse(refus.message, refus.code) from None
    return enregistrement


def purger_tentatives(*, avant: datetime.datetime) -> int:
    """Delete the attempts recorded before `avant` (retention of the audit data)."""
    supprimees, _ = TentativeEnregistrement.objects.filter(quand__lt=avant).delete()
    return supprimees
