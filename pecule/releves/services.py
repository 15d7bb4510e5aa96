"""The relative's six-month statement: the query shared with the HTML history, the
request, the rendering and the clean-up. Keyword-only functions; views and tasks call
them.

Verification code: the SHA-256 of the statement's data as canonical JSON (the relative's
identity, the scope, the period, each transfer, the totals; not the issue date), so the
same data always gives the same code. A hash of the PDF cannot be printed inside the PDF
it hashes, so the PDF prints the first 16 hex digits of the data's hash, and the row
keeps the data, the full code and the SHA-256 of the file: in the back-office staff find
a statement by its code (and can check a file they were given against its fingerprint).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from regie.models import ZERO, Detenu
from socle.erreurs import ErreurMetier
from socle.pdf import rendre_pdf
from socle.taches import publier

from ..models import EtatProche, ReleveProche, StatutReleve, Virement

logger = logging.getLogger(__name__)

DUREE_HISTORIQUE = datetime.timedelta(days=183)
RETENTION_PAR_DEFAUT_JOURS = 7
RELEVES_PAR_JOUR = 20
# 2: one total per meaning (sent, credited) instead of a sum of every state.
VERSION_DONNEES = 2
TACHE_PRODUCTION = "pecule.releves.tasks.produire_releve"


class ReleveImpossible(ErreurMetier):
    """The relative cannot ask for this statement: French message."""

    code = "releve_impossible"


def retention() -> datetime.timedelta:
    """How long a statement (file and row) is kept: PECULE_RETENTION_RELEVES_JOURS."""
    jours = getattr(settings, "PECULE_RETENTION_RELEVES_JOURS", RETENTION_PAR_DEFAUT_JOURS)
    return datetime.timedelta(days=int(jours))


# --- The query shared by the HTML history and the PDF ---------------------------------


def periode_des_six_derniers_mois(
    fin: datetime.datetime | None = None,
) -> tuple[datetime.datetime, datetime.datetime]:
    """The history's window: the 183 days up to `fin` (now by default), counted on the
    wall clock in Paris, so that it starts at the same local time it ends at even when
    the clocks changed in between (23:30 in winter is not 00:30 in summer)."""
    fin = fin or timezone.now()
    local = timezone.localtime(fin)
    debut = timezone.make_aware(local.replace(tzinfo=None) - DUREE_HISTORIQUE, local.tzinfo)
    return debut, fin


def virements_des_six_derniers_mois(
    proche, detenu: Detenu | None = None, *, fin: datetime.datetime | None = None
) -> QuerySet[Virement]:
    """The relative's transfers of the last six months (to one detainee, or all), newest
    first: what « Voir l'historique » shows and what the PDF statement lists."""
    debut, fin = periode_des_six_derniers_mois(fin)
    virements = Virement.objects.filter(proche=proche, cree_le__gte=debut, cree_le__lte=fin)
    if detenu is not None:
        virements = virements.filter(detenu=detenu)
    return virements.select_related("detenu", "etablissement", "ordre_retour").order_by(
        "-cree_le", "-pk"
    )


def detenus_du_proche(proche) -> QuerySet[Detenu]:
    """The detainees a relative may ask a statement for: those of their registered
    permits and those they sent money to."""
    return (
        Detenu.objects.filter(
            Q(virements__proche=proche) | Q(permis_de_visite__enregistrements__proche=proche)
        )
        .distinct()
        .order_by("nom", "prenoms", "pk")
    )


def releves_du_proche(proche) -> QuerySet[ReleveProche]:
    """The relative's statements still kept, newest first."""
    return (
        ReleveProche.objects.filter(proche=proche, expire_le__gt=timezone.now())
        .select_related("detenu__etablissement")
        .order_by("-demande_le", "-pk")
    )


# --- The statement's data and its verification code ------------------------------------


def _moment(valeur: datetime.datetime) -> str:
    return timezone.localtime(valeur).isoformat(timespec="seconds")


def _detenu(detenu: Detenu) -> dict:
    return {"numero_ecrou": detenu.numero_ecrou, "nom": detenu.nom, "prenoms": detenu.prenoms}


def donnees_releve(releve: ReleveProche) -> dict:
    """Everything the PDF shows except the issue date, as JSON-ready values."""
    proche = releve.proche
    virements = list(virements_des_six_derniers_mois(proche, releve.detenu, fin=releve.fin))
    lignes = [
        {
            "reference": v.reference,
            "date": _moment(v.cree_le),
            "detenu": _detenu(v.detenu),
            "etablissement": v.etablissement.nom,
            "montant": f"{v.montant:.2f}",
            "etat": v.etat_proche.value,
        }
        for v in virements
    ]
    par_etat = []
    for etat in EtatProche:
        montants = [v.montant for v in virements if v.etat_proche == etat]
        if montants:
            par_etat.append(
                {"etat": etat.value, "nombre": len(montants), "montant": f"{sum(montants):.2f}"}
            )
    return {
        "document": "releve_virements_proche",
        "version": VERSION_DONNEES,
        "proche": {
            "nom": proche.fc_family_name,
            "prenoms": proche.fc_given_name,
            "date_naissance": proche.fc_birthdate.isoformat() if proche.fc_birthdate else None,
        },
        "perimetre": (
            {**_detenu(releve.detenu), "etablissement": releve.detenu.etablissement.nom}
            if releve.detenu_id
            else None
        ),
        "periode": {"debut": _moment(releve.debut), "fin": _moment(releve.fin)},
        "virements": lignes,
        "totaux": {
            "nombre": len(virements),
            # One total per meaning, never refused or cancelled transfers added to sent ones.
            "envoye": _total(v for v in virements if v.etat_proche in ETATS_ENVOYES),
            "credite": _total(v for v in virements if v.etat_proche == EtatProche.CREDITE),
            "par_etat": par_etat,
        },
    }


# What the relative's bank carried out: the money left their account (a transfer returned
# by the régie came back to it afterwards; the table by state shows it).
ETATS_ENVOYES = (EtatProche.CONFIRME, EtatProche.CREDITE, EtatProche.RETOURNE)


def _total(virements) -> dict:
    montants = [v.montant for v in virements]
    return {"nombre": len(montants), "montant": f"{sum(montants, ZERO):.2f}"}


def json_canonique(donnees: dict) -> bytes:
    return json.dumps(donnees, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8"
    )


def code_verification(donnees: dict) -> str:
    """SHA-256 (hex) of the canonical JSON of the statement's data."""
    return hashlib.sha256(json_canonique(donnees)).hexdigest()


def normaliser_code(saisie: str) -> str:
    """What staff type (« 3F2A-9C1B 07de… »): the hex digits only, lower case."""
    return "".join(c for c in saisie.lower() if c in "0123456789abcdef")


def releves_du_code(saisie: str) -> QuerySet[ReleveProche]:
    """The statements whose code starts with what was typed (16 hex digits at least)."""
    code = normaliser_code(saisie)
    if len(code) < 16:
        return ReleveProche.objects.none()
    return ReleveProche.objects.filter(code_verification__startswith=code).select_related(
        "proche", "detenu__etablissement"
    )


# --- What staff may see of a statement --------------------------------------------------


def lignes_du_releve(releve: ReleveProche, references: set[str] | None) -> list[dict]:
    """The statement's transfer lines whose reference is in `references` (every line
    when None: a superuser). A relative may pay detainees in several prisons: staff see
    only the lines of their establishments, and the counts and totals of those lines."""
    lignes = (releve.donnees or {}).get("virements", [])
    if references is None:
        return list(lignes)
    return [ligne for ligne in lignes if ligne["reference"] in references]


def totaux_des_lignes(lignes: list[dict]) -> dict:
    """Count and totals of some of a statement's lines, one total per meaning as the
    statement prints them: sent by the bank, credited on the account."""

    def total(etats) -> Decimal:
        return sum((Decimal(ligne["montant"]) for ligne in lignes if ligne["etat"] in etats), ZERO)

    return {
        "nombre": len(lignes),
        "envoye": total({e.value for e in ETATS_ENVOYES}),
        "credite": total({EtatProche.CREDITE.value}),
    }


# --- The PDF ----------------------------------------------------------------------------


def _contexte_pdf(donnees: dict) -> dict:
    """The template's values, read back from the data that the code hashes."""
    libelles = dict(EtatProche.choices)
    totaux = donnees["totaux"]
    # Each person and establishment once (a person transferred appears once per prison),
    # in the order of the table, instead of a second line under every transfer.
    destinataires = {}
    for ligne in donnees["virements"]:
        nom = f"{ligne['detenu']['prenoms']} {ligne['detenu']['nom']}"
        destinataires.setdefault((nom, ligne["etablissement"]), None)
    return {
        "donnees": donnees,
        "destinataires": [
            {"nom": nom, "etablissement": etablissement} for nom, etablissement in destinataires
        ],
        "debut": datetime.datetime.fromisoformat(donnees["periode"]["debut"]),
        "fin": datetime.datetime.fromisoformat(donnees["periode"]["fin"]),
        "date_naissance": (
            datetime.date.fromisoformat(donnees["proche"]["date_naissance"])
            if donnees["proche"]["date_naissance"]
            else None
        ),
        "virements": [
            {
                **ligne,
                "date": datetime.datetime.fromisoformat(ligne["date"]),
                "montant": Decimal(ligne["montant"]),
                "etat_libelle": libelles[ligne["etat"]],
            }
            for ligne in donnees["virements"]
        ],
        "par_etat": [
            {**total, "montant": Decimal(total["montant"]), "libelle": libelles[total["etat"]]}
            for total in donnees["totaux"]["par_etat"]
        ],
        "envoye": {**totaux["envoye"], "montant": Decimal(totaux["envoye"]["montant"])},
        "credite": {**totaux["credite"], "montant": Decimal(totaux["credite"]["montant"])},
    }


def formater_code(code: str) -> str:
    court = code[:16].upper()
    return "-".join(court[i : i + 4] for i in range(0, len(court), 4))


def pdf_releve(donnees: dict, *, emis_le: datetime.datetime) -> bytes:
    """The statement's PDF: the same data and issue date give the same bytes."""
    code = code_verification(donnees)
    return rendre_pdf(
        "pecule/releves/releve.html",
        {**_contexte_pdf(donnees), "code": formater_code(code)},
        titre="Relevé de vos virements des six derniers mois",
        emis_le=emis_le,
    )


# --- Request, rendering, clean-up -------------------------------------------------------


def _virements_modifies_depuis(releve: ReleveProche) -> bool:
    virements = Virement.objects.filter(proche_id=releve.proche_id, maj_le__gt=releve.fin)
    if releve.detenu_id:
        virements = virements.filter(detenu_id=releve.detenu_id)
    return virements.exists()


def publier_production(releve_id: int) -> None:
    """Queue the rendering (the task by its name: the tasks module imports this one); if
    the broker is down, the periodic sweep queues it again."""
    publier(TACHE_PRODUCTION, releve_id)


@transaction.atomic
def demander_releve(*, proche, detenu: Detenu | None = None) -> ReleveProche:
    """Ask for the PDF statement of the last six months (to `detenu`, or to all).

    Idempotent per day and scope: a second click returns the statement being prepared,
    or the ready one if none of the transfers it covers changed since. The rendering is
    queued after the commit.
    """
    if detenu is not None and not detenus_du_proche(proche).filter(pk=detenu.pk).exists():
        raise ReleveImpossible("Vous n'avez envoyé aucun virement à cette personne.")
    # Serialises one relative's requests: a double click never makes two statements.
    get_user_model().objects.select_for_update().filter(pk=proche.pk).first()
    maintenant = timezone.now()
    du_jour = ReleveProche.objects.filter(
        proche=proche, demande_le__date=timezone.localdate(maintenant)
    )
    existant = (
        du_jour.filter(
            detenu=detenu,
            statut__in=[StatutReleve.DEMANDE, StatutReleve.PRET],
            expire_le__gt=maintenant,
        )
        .order_by("-demande_le", "-pk")
        .first()
    )
    if existant is not None and (
        existant.statut == StatutReleve.DEMANDE or not _virements_modifies_depuis(existant)
    ):
        return existant
    if du_jour.count() >= RELEVES_PAR_JOUR:
        raise ReleveImpossible(
            "Vous avez demandé beaucoup de relevés aujourd'hui : réessayez demain."
        )
    debut, fin = periode_des_six_derniers_mois(maintenant)
    releve = ReleveProche.objects.create(
        proche=proche,
        detenu=detenu,
        debut=debut,
        fin=fin,
        demande_le=maintenant,
        expire_le=maintenant + retention(),
    )
    transaction.on_commit(lambda: publier_production(releve.pk), robust=True)
    return releve


def produire(releve_id: int, *, emis_le: datetime.datetime | None = None) -> ReleveProche | None:
    """Render and store one requested statement. Safe to run twice (acks_late): a
    statement already ready, failed or deleted is left as it is, and when two workers
    render the same one, the first to commit wins and the other's file is dropped."""
    releve = (
        ReleveProche.objects.select_related("proche", "detenu__etablissement")
        .filter(pk=releve_id)
        .first()
    )
    if releve is None or releve.statut != StatutReleve.DEMANDE:
        return releve
    emis_le = emis_le or timezone.now()
    try:
        donnees = donnees_releve(releve)
        pdf = pdf_releve(donnees, emis_le=emis_le)
    except Exception as exc:
        logger.exception("Statement %s could not be rendered", releve_id)
        ReleveProche.objects.filter(pk=releve_id, statut=StatutReleve.DEMANDE).update(
            statut=StatutReleve.ERREUR, erreur=f"{type(exc).__name__}: {exc}"[:2000]
        )
        return ReleveProche.objects.filter(pk=releve_id).first()
    with transaction.atomic():
        releve = ReleveProche.objects.select_for_update().filter(pk=releve_id).first()
        if releve is None or releve.statut != StatutReleve.DEMANDE:
            return releve
        releve.fichier.save("releve.pdf", ContentFile(pdf), save=False)
        try:
            releve.statut = StatutReleve.PRET
            releve.donnees = donnees
            releve.code_verification = code_verification(donnees)
            releve.empreinte_fichier = hashlib.sha256(pdf).hexdigest()
            releve.nombre_virements = donnees["totaux"]["nombre"]
            releve.total = Decimal(donnees["totaux"]["envoye"]["montant"])
            releve.pret_le = emis_le
            releve.expire_le = emis_le + retention()
            releve.save()
        except BaseException:
            releve.fichier.delete(save=False)
            raise
    return releve


def relancer_releves_en_attente(*, age: datetime.timedelta) -> int:
    """Queue again the requests still waiting after `age` (broker down, worker lost)."""
    maintenant = timezone.now()
    ids = list(
        ReleveProche.objects.filter(
            statut=StatutReleve.DEMANDE, demande_le__lt=maintenant - age, expire_le__gt=maintenant
        )
        .order_by("demande_le")
        .values_list("pk", flat=True)[:500]
    )
    for releve_id in ids:
        publier_production(releve_id)
    return len(ids)


def supprimer_releves_expires(*, maintenant: datetime.datetime | None = None) -> int:
    """Delete the statements past their retention: the file first, then the row."""
    maintenant = maintenant or timezone.now()
    supprimes = 0
    while True:
        lot = list(ReleveProche.objects.filter(expire_le__lte=maintenant).order_by("pk")[:200])
        if not lot:
            return supprimes
        for releve in lot:
            if releve.fichier:
                releve.fichier.delete(save=False)
            releve.delete()
            supprimes += 1
