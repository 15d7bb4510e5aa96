"""Keeping the permits (admin, CSV import, API): creation, changes and status changes,
each logged; the periodic expiry."""

import datetime

from django.db import IntegrityError, transaction

from regie import services as regie_services
from regie.exceptions import DroitsInsuffisants
from regie.models import Detenu, Etablissement
from socle.dates import aujourdhui

from ..exceptions import (
    PermisExisteDeja,
    TransitionInterdite,
)
from ..models import (
    ActionPermis,
    EvenementPermis,
    JetonSystemeInformation,
    PermisDeVisite,
    StatutPermis,
    normaliser_numero,
)

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
