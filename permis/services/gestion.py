"""Keeping the permits (admin, CSV import, API): creation, changes and status changes,
each logged; the periodic expiry."""

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

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


TEXTES = ("titulaire_nom", "titulaire_prenoms", "lien", "motif_statut")


def changements_depuis(ancien: dict, champs: dict) -> dict:
    """The fields of `champs` whose value differs from `ancien` (previous values), texts
    without their surrounding spaces."""
    champs = {
        champ: (valeur or "").strip() if champ in TEXTES else valeur
        for champ, valeur in champs.items()
    }
    return {champ: valeur for champ, valeur in champs.items() if ancien[champ] != valeur}


def changements_permis(permis: PermisDeVisite, champs: dict) -> dict:
    """The fields of `champs` (see CHAMPS_MODIFIABLES) whose value differs from the
    permit's, texts without their surrounding spaces."""
    return changements_depuis({champ: getattr(permis, champ) for champ in champs}, champs)


def verifier_changements(statut_actuel: str, changements: dict) -> None:
    """Raise TransitionInterdite if a permit of this status may not take these changes:
    a withdrawn permit never changes again, a status follows TRANSITIONS."""
    if not changements:
        return
    if statut_actuel == StatutPermis.RETIRE:
        raise TransitionInterdite(
            "Ce permis de visite a été retiré : il ne peut plus être modifié. "
            "Un nouveau permis doit être délivré."
        )
    nouveau_statut = changements.get("statut", statut_actuel)
    if nouveau_statut != statut_actuel and nouveau_statut not in TRANSITIONS.get(
        statut_actuel, set()
    ):
        raise TransitionInterdite(
            f"Un permis {StatutPermis(statut_actuel).label.lower()} ne peut pas devenir "
            f"« {StatutPermis(nouveau_statut).label.lower()} »."
        )


def _details_changements(ancien, changements: dict) -> str:
    """`ancien`: the permit, or a mapping of its previous values."""
    avant = ancien if isinstance(ancien, dict) else {c: getattr(ancien, c) for c in changements}
    return "\n".join(
        f"{PermisDeVisite._meta.get_field(champ).verbose_name} : "
        f"{_afficher(avant[champ])} → {_afficher(valeur)}"
        for champ, valeur in changements.items()
    )


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
    changements = changements_permis(permis, champs)
    if not changements:
        return permis
    verifier_changements(permis.statut, changements)
    ancien_statut = permis.statut
    nouveau_statut = changements.get("statut", ancien_statut)
    if "detenu" in changements:
        changements["detenu"] = _verrouiller_detenu(changements["detenu"])
    details = _details_changements(permis, changements)
    for champ, valeur in changements.items():
        setattr(permis, champ, valeur)
    permis.full_clean(validate_unique=False, validate_constraints=False)
    permis.save()
    action = (
        ACTION_DU_STATUT[nouveau_statut]
        if nouveau_statut != ancien_statut
        else ActionPermis.MODIFICATION
    )
    _journal(permis, action, auteur=auteur, jeton=jeton, details=details)
    return permis


@transaction.atomic
def importer_permis(
    *,
    etablissement: Etablissement,
    auteur,
    nouveaux: list[PermisDeVisite],
    modifies: list[tuple[PermisDeVisite, dict]],
) -> tuple[int, int]:
    """Write a checked CSV import in bulk (`permis.resources`), all or nothing: the new
    permits of `etablissement` (`nouveaux`, unsaved, fields set and validated) and the
    changes to existing ones (`modifies`: the permit with its new values, and a mapping of
    its previous values of CHAMPS_MODIFIABLES). The same rules as `creer_permis` and
    `modifier_permis`, for the whole file at once: rights checked once, the detainees
    locked and checked still held here, status rules applied, one history entry per
    permit created or changed (none for a row that changes nothing). Returns the numbers
    of permits created and changed."""
    if nouveaux:
        _verifier_auteur(
            auteur=auteur,
            jeton=None,
            etablissement=etablissement,
            permission="permis.add_permisdevisite",
            action="créer un permis de visite",
        )
    if modifies:
        _verifier_auteur(
            auteur=auteur,
            jeton=None,
            etablissement=etablissement,
            permission="permis.change_permisdevisite",
            action="modifier un permis de visite",
        )
    ids_detenus = {permis.detenu_id for permis in nouveaux} | {
        permis.detenu_id for permis, ancien in modifies if permis.detenu_id != ancien["detenu"].pk
    }
    for detenu in Detenu.objects.select_for_update(of=("self",)).filter(pk__in=ids_detenus):
        if detenu.libere_le is not None or detenu.etablissement_id != etablissement.pk:
            raise TransitionInterdite(
                f"La personne détenue n° d'écrou {detenu.numero_ecrou} n'est plus écrouée "
                "dans l'établissement : aucun permis n'a été importé."
            )
    maintenant = timezone.now()
    evenements = []
    for permis in nouveaux:
        permis.etablissement = etablissement
        permis.numero = normaliser_numero(permis.numero)
        for texte in TEXTES:
            setattr(permis, texte, (getattr(permis, texte) or "").strip())
    try:
        with transaction.atomic():
            PermisDeVisite.objects.bulk_create(nouveaux, batch_size=1000)
    except IntegrityError:
        raise PermisExisteDeja(
            "Un numéro de permis du fichier vient d'être enregistré par ailleurs : aucun "
            "permis n'a été importé. Importez le fichier de nouveau."
        ) from None
    evenements += [
        EvenementPermis(permis=permis, action=ActionPermis.CREATION, auteur=auteur)
        for permis in nouveaux
    ]
    changes, champs_changes = [], set()
    for permis, ancien in modifies:
        changements = changements_depuis(
            ancien, {champ: getattr(permis, champ) for champ in CHAMPS_MODIFIABLES}
        )
        if not changements:
            continue
        verifier_changements(ancien["statut"], changements)
        for champ, valeur in changements.items():
            setattr(permis, champ, valeur)
        champs_changes.update(changements)
        permis.modifie_le = maintenant
        nouveau_statut = changements.get("statut", ancien["statut"])
        action = (
            ACTION_DU_STATUT[nouveau_statut]
            if nouveau_statut != ancien["statut"]
            else ActionPermis.MODIFICATION
        )
        evenements.append(
            EvenementPermis(
                permis=permis,
                action=action,
                auteur=auteur,
                details=_details_changements(ancien, changements),
            )
        )
        changes.append(permis)
    if changes:  # only the columns that change (each is a CASE over the batch)
        PermisDeVisite.objects.bulk_update(
            changes, [*sorted(champs_changes), "modifie_le"], batch_size=500
        )
    EvenementPermis.objects.bulk_create(evenements, batch_size=1000)
    return len(nouveaux), len(changes)


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
