"""State changes of the permis app: keyword-only functions, one transaction each.

The admin, the CSV import, the API and the portal views call these functions; they hold
no rule of their own. A refusal raises a `permis.exceptions.PermisError` subclass (French
message, stable code) or a Django `ValidationError` (field errors); nothing is written,
except the record of a relative's attempt, which is kept whatever the outcome.
"""

import datetime
import hashlib
import ipaddress
import math
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from regie import services as regie_services
from regie.exceptions import DroitsInsuffisants
from regie.models import Detenu, Etablissement, Regime, StatutPenal
from socle.dates import aujourdhui

from .exceptions import (
    DetenuLibere,
    PermisExisteDeja,
    PermisRefuse,
    TransfertASignaler,
    TransitionInterdite,
    TropDeTentatives,
)
from .identite import nom_de_detenu_concorde, noms_concordent, titulaire_concorde
from .models import (
    ActionPermis,
    EtatPermis,
    EvenementPermis,
    JetonSystemeInformation,
    MotifTentative,
    PermisDeVisite,
    PermisEnregistre,
    SignalementTransfert,
    StatutPermis,
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

PREFIXE_JETON = "pecule_si_"
DELAI_MISE_A_JOUR_USAGE = datetime.timedelta(minutes=5)

# Status changes a permit may go through; withdrawal is final (a new permit is issued).
TRANSITIONS = {
    StatutPermis.ACTIF: {StatutPermis.SUSPENDU, StatutPermis.RETIRE, StatutPermis.EXPIRE},
    StatutPermis.SUSPENDU: {StatutPermis.ACTIF, StatutPermis.RETIRE, StatutPermis.EXPIRE},
    StatutPermis.EXPIRE: {StatutPermis.ACTIF, StatutPermis.RETIRE},
    StatutPermis.RETIRE: set(),
}
ACTION_DU_STATUT = {
    StatutPermis.ACTIF: ActionPermis.REACTIVATION,
    StatutPermis.SUSPENDU: ActionPermis.SUSPENSION,
    StatutPermis.RETIRE: ActionPermis.RETRAIT,
    StatutPermis.EXPIRE: ActionPermis.EXPIRATION,
}
CHAMPS_MODIFIABLES = (
    "detenu",
    "titulaire_nom",
    "titulaire_prenoms",
    "titulaire_date_naissance",
    "lien",
    "date_debut",
    "date_fin",
    "statut",
    "motif_statut",
)


# --- « Ajouter un permis de visite » ------------------------------------------------------


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


# --- Keeping the permits (admin, CSV import, API) -----------------------------------------


def _verifier_auteur(*, auteur, jeton, etablissement: Etablissement, permission: str, action: str):
    """A staff member with the permission, attached to the establishment; or a valid token
    of that establishment; or neither (a system process, such as a periodic task)."""
    if jeton is not None:
        if not jeton.actif or jeton.etablissement_id != etablissement.pk:
            raise DroitsInsuffisants(f"Ce jeton ne permet pas de {action} dans cet établissement.")
        return
    regie_services.verifier_droits(auteur, etablissement, permission, action)


def _journal(permis, action, *, auteur=None, jeton=None, auteur_systeme="", details=""):
    EvenementPermis.objects.create(
        permis=permis,
        action=action,
        auteur=auteur,
        jeton=jeton,
        auteur_systeme=auteur_systeme,
        details=details,
    )


def _afficher(valeur) -> str:
    if valeur is None or valeur == "":
        return "–"
    if isinstance(valeur, datetime.date):
        return f"{valeur:%d/%m/%Y}"
    return str(valeur)


def _verrouiller_detenu(detenu: Detenu) -> Detenu:
    return Detenu.objects.select_for_update(of=("self",)).get(pk=detenu.pk)


@transaction.atomic
def creer_permis(
    *,
    etablissement: Etablissement,
    numero: str,
    detenu: Detenu,
    titulaire_nom: str,
    titulaire_prenoms: str,
    titulaire_date_naissance: datetime.date,
    date_debut: datetime.date,
    date_fin: datetime.date | None = None,
    lien: str = "",
    statut: str = StatutPermis.ACTIF,
    motif_statut: str = "",
    auteur=None,
    jeton: JetonSystemeInformation | None = None,
) -> PermisDeVisite:
    """Record a permit issued by `etablissement` to visit `detenu`, held there.

    Raises PermisExisteDeja if the number is taken in the establishment, ValidationError
    for invalid fields, DroitsInsuffisants if the author may not."""
    _verifier_auteur(
        auteur=auteur,
        jeton=jeton,
        etablissement=etablissement,
        permission="permis.add_permisdevisite",
        action="créer un permis de visite",
    )
    numero = normaliser_numero(numero)
    message_doublon = f"Le permis n° {numero} existe déjà dans cet établissement."
    if PermisDeVisite.objects.filter(etablissement=etablissement, numero=numero).exists():
        raise PermisExisteDeja(message_doublon)
    permis = PermisDeVisite(
        etablissement=etablissement,
        numero=numero,
        detenu=_verrouiller_detenu(detenu),
        titulaire_nom=titulaire_nom.strip(),
        titulaire_prenoms=titulaire_prenoms.strip(),
        titulaire_date_naissance=titulaire_date_naissance,
        lien=(lien or "").strip(),
        date_debut=date_debut,
        date_fin=date_fin,
        statut=statut,
        motif_statut=motif_statut or "",
    )
    permis.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            permis.save()
    except IntegrityError:
        raise PermisExisteDeja(message_doublon) from None
    _journal(permis, ActionPermis.CREATION, auteur=auteur, jeton=jeton)
    return permis


@transaction.atomic
def modifier_permis(
    *, permis: PermisDeVisite, auteur=None, jeton: JetonSystemeInformation | None = None, **champs
) -> PermisDeVisite:
    """Change the given fields of a permit (see CHAMPS_MODIFIABLES), under a row lock.

    A status change follows TRANSITIONS (withdrawal is final) and is logged as such.
    Nothing changes, and nothing is logged, when the values are those already recorded."""
    inconnus = set(champs) - set(CHAMPS_MODIFIABLES)
    if inconnus:
        raise TypeError(f"Fields that cannot be changed: {sorted(inconnus)}")
    permis = (
        PermisDeVisite.objects.select_for_update(of=("self",))
        .select_related("detenu", "etablissement")
        .get(pk=permis.pk)
    )
    _verifier_auteur(
        auteur=auteur,
        jeton=jeton,
        etablissement=permis.etablissement,
        permission="permis.change_permisdevisite",
        action="modifier un permis de visite",
    )
    for texte in ("titulaire_nom", "titulaire_prenoms", "lien", "motif_statut"):
        if texte in champs:
            champs[texte] = (champs[texte] or "").strip()
    changements = {
        champ: valeur for champ, valeur in champs.items() if getattr(permis, champ) != valeur
    }
    if not changements:
        return permis
    if permis.statut == StatutPermis.RETIRE:
        raise TransitionInterdite(
            "Ce permis de visite a été retiré : il ne peut plus être modifié. "
            "Un nouveau permis doit être délivré."
        )
    ancien_statut = permis.statut
    nouveau_statut = changements.get("statut", ancien_statut)
    if nouveau_statut != ancien_statut and nouveau_statut not in TRANSITIONS.get(
        ancien_statut, set()
    ):
        raise TransitionInterdite(
            f"Un permis {StatutPermis(ancien_statut).label.lower()} ne peut pas devenir "
            f"« {StatutPermis(nouveau_statut).label.lower()} »."
        )
    if "detenu" in changements:
        changements["detenu"] = _verrouiller_detenu(changements["detenu"])
    details = [
        f"{PermisDeVisite._meta.get_field(champ).verbose_name} : "
        f"{_afficher(getattr(permis, champ))} → {_afficher(valeur)}"
        for champ, valeur in changements.items()
    ]
    for champ, valeur in changements.items():
        setattr(permis, champ, valeur)
    permis.full_clean(validate_unique=False, validate_constraints=False)
    permis.save()
    action = (
        ACTION_DU_STATUT[nouveau_statut]
        if nouveau_statut != ancien_statut
        else ActionPermis.MODIFICATION
    )
    _journal(permis, action, auteur=auteur, jeton=jeton, details="\n".join(details))
    return permis


def creer_ou_mettre_a_jour_permis(
    *,
    etablissement: Etablissement,
    numero: str,
    auteur=None,
    jeton: JetonSystemeInformation | None = None,
    **champs,
) -> tuple[PermisDeVisite, bool]:
    """Create the permit `numero` of `etablissement`, or update it if it exists (CSV
    import). Returns (permit, created)."""
    numero = normaliser_numero(numero)
    with transaction.atomic():
        existant = PermisDeVisite.objects.filter(etablissement=etablissement, numero=numero).first()
        if existant is None:
            try:
                with transaction.atomic():
                    permis = creer_permis(
                        etablissement=etablissement,
                        numero=numero,
                        auteur=auteur,
                        jeton=jeton,
                        **champs,
                    )
                return permis, True
            except PermisExisteDeja:  # created meanwhile: update it
                existant = PermisDeVisite.objects.get(etablissement=etablissement, numero=numero)
        return modifier_permis(permis=existant, auteur=auteur, jeton=jeton, **champs), False


def suspendre_permis(
    *, permis: PermisDeVisite, motif: str = "", auteur=None, jeton=None
) -> PermisDeVisite:
    """Suspend a permit: it stops allowing transfers at once. Idempotent."""
    return modifier_permis(
        permis=permis, auteur=auteur, jeton=jeton, statut=StatutPermis.SUSPENDU, motif_statut=motif
    )


def retirer_permis(
    *, permis: PermisDeVisite, motif: str = "", auteur=None, jeton=None
) -> PermisDeVisite:
    """Withdraw a permit, for good: it stops allowing transfers at once. Idempotent."""
    permis = PermisDeVisite.objects.get(pk=permis.pk)
    if permis.statut == StatutPermis.RETIRE:
        return permis
    return modifier_permis(
        permis=permis, auteur=auteur, jeton=jeton, statut=StatutPermis.RETIRE, motif_statut=motif
    )


def reactiver_permis(*, permis: PermisDeVisite, auteur=None, jeton=None) -> PermisDeVisite:
    """End a suspension (or renew an expired permit whose end date was moved)."""
    return modifier_permis(
        permis=permis, auteur=auteur, jeton=jeton, statut=StatutPermis.ACTIF, motif_statut=""
    )


@transaction.atomic
def expirer_permis_echus(*, jour: datetime.date | None = None) -> list[int]:
    """Mark as expired the active or suspended permits whose end date is before `jour`
    (a periodic task). `est_valide` already refuses them: this keeps the status honest.
    Returns the ids of the permits changed."""
    jour = jour or aujourdhui()
    echus = PermisDeVisite.objects.select_for_update(of=("self",)).filter(
        statut__in=[StatutPermis.ACTIF, StatutPermis.SUSPENDU], date_fin__lt=jour
    )
    ids = []
    for permis in echus:
        permis.statut = StatutPermis.EXPIRE
        permis.save(update_fields=["statut", "modifie_le"])
        _journal(
            permis,
            ActionPermis.EXPIRATION,
            auteur_systeme="expiration automatique",
            details=f"Date de fin : {permis.date_fin:%d/%m/%Y}",
        )
        ids.append(permis.pk)
    return ids


# --- The establishment's information system (API) ----------------------------------------

NON_FOURNI = object()


def _personne_ecrouee_ailleurs(etablissement, nom, prenoms, date_naissance) -> Detenu | None:
    candidats = (
        Detenu.objects.filter(date_naissance=date_naissance, libere_le__isnull=True)
        .exclude(etablissement=etablissement)
        .order_by("pk")
    )
    for candidat in candidats:
        if noms_concordent(candidat.nom, nom) and noms_concordent(candidat.prenoms, prenoms):
            return candidat
    return None


def mettre_a_jour_detenu_depuis_si(
    *,
    jeton: JetonSystemeInformation,
    numero_ecrou: str,
    nom: str,
    prenoms: str,
    date_naissance: datetime.date,
    statut_penal: str | None = None,
    regime: str | None = None,
    prive_de_subsides_jusquau=NON_FOURNI,
) -> tuple[Detenu, bool]:
    """Create or update, from the information system of the token's establishment, the
    detainee `numero_ecrou` there. Returns (detenu, created).

    - Creation goes through `regie.services.ecrouer` (it opens the compte nominatif).
    - Update: identity, situation pénale, régime and deprivation of subsidies only.
      None of these moves money; `statut_penal`/`regime` left out (None) are unchanged,
      `prive_de_subsides_jusquau` left out is unchanged and None clears it.
    - A transfer or a release moves money: never from here. If the person is held in
      another establishment, the report is recorded (SignalementTransfert) for the régie,
      which performs the transfer (`regie.services.transferer_detenu`), and
      TransfertASignaler is raised; a released detainee raises DetenuLibere.
    """
    if not jeton.actif:
        raise DroitsInsuffisants("Ce jeton a été révoqué.")
    etablissement = jeton.etablissement
    numero_ecrou = (numero_ecrou or "").strip()
    a_signaler = None
    with transaction.atomic():
        detenu = (
            Detenu.objects.select_for_update(of=("self",))
            .filter(etablissement=etablissement, numero_ecrou=numero_ecrou)
            .first()
        )
        if detenu is None:
            ailleurs = _personne_ecrouee_ailleurs(etablissement, nom, prenoms, date_naissance)
            if ailleurs is None:
                detenu = regie_services.ecrouer(
                    etablissement=etablissement,
                    auteur=None,
                    numero_ecrou=numero_ecrou,
                    nom=nom.strip(),
                    prenoms=prenoms.strip(),
                    date_naissance=date_naissance,
                    statut_penal=statut_penal or StatutPenal.PREVENU,
                    regime=regime or Regime.ORDINAIRE,
                    prive_de_subsides_jusquau=(
                        None
                        if prive_de_subsides_jusquau is NON_FOURNI
                        else prive_de_subsides_jusquau
                    ),
                )
                return detenu, True
            maintenant = timezone.now()
            donnees = {
                "numero_ecrou": numero_ecrou,
                "nom": nom,
                "prenoms": prenoms,
                "date_naissance": date_naissance.isoformat(),
                "statut_penal": statut_penal,
                "regime": regime,
            }
            a_signaler, cree = SignalementTransfert.objects.get_or_create(
                detenu=ailleurs,
                etablissement_destination=etablissement,
                nouveau_numero_ecrou=numero_ecrou,
                defaults={
                    "etablissement_origine": ailleurs.etablissement,
                    "donnees": donnees,
                    "jeton": jeton,
                    "signale_le": maintenant,
                    "dernier_signalement": maintenant,
                },
            )
            if not cree:
                a_signaler.donnees = donnees
                a_signaler.jeton = jeton
                a_signaler.dernier_signalement = maintenant
                a_signaler.save(update_fields=["donnees", "jeton", "dernier_signalement"])
        else:
            if detenu.libere_le is not None:
                raise DetenuLibere(
                    f"La personne détenue n° d'écrou {numero_ecrou} a été libérée le "
                    f"{detenu.libere_le:%d/%m/%Y} : elle ne peut plus être modifiée."
                )
            valeurs = {
                "nom": nom.strip(),
                "prenoms": prenoms.strip(),
                "date_naissance": date_naissance,
            }
            if statut_penal is not None:
                valeurs["statut_penal"] = statut_penal
            if regime is not None:
                valeurs["regime"] = regime
            if prive_de_subsides_jusquau is not NON_FOURNI:
                valeurs["prive_de_subsides_jusquau"] = prive_de_subsides_jusquau
            changes = [c for c, v in valeurs.items() if getattr(detenu, c) != v]
            for champ in changes:
                setattr(detenu, champ, valeurs[champ])
            if changes:
                detenu.full_clean()
                detenu.save(update_fields=changes)
            return detenu, False
    raise TransfertASignaler(
        "Cette personne est écrouée dans un autre établissement selon Pécule. Le transfert de "
        "son compte nominatif doit d'abord être fait par la régie ; il lui a été signalé.",
        signalement=a_signaler.pk,
    )


# --- Tokens of the information systems ----------------------------------------------------


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
