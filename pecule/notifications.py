"""The providers' notification endpoint: verify the signature on the raw body, store the
events in the inbox (once per provider + event id), queue their processing after commit,
and answer fast. Nothing else happens here.

Whatever arrives, the answer is never a 5xx (a provider retries a 5xx for ever):
- a body above TAILLE_MAX_CORPS: 413, before it is read;
- a missing, wrong or stale signature, or a signed body the portal cannot use (not
  UTF-8, a NUL character, no event id, an id longer than the inbox's column, unreadable
  by the adapter): 400 with the reason, counted in `NotificationRejetee` (one row per
  provider, reason, address and hour: `services.rejets`), nothing stored in the inbox;
- an address refused more than REJETS_PAR_MINUTE times a minute: 429, nothing recorded
  (`socle.limites`).
"""

import contextlib
import logging

from django.db import DataError, transaction
from django.http import Http404, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from socle.limites import depassee, taille_annoncee
from socle.transactions import inserer_sauf_doublon

from .fournisseurs import fournisseur
from .fournisseurs.base import SignatureInvalide
from .models import NotificationRecue, Virement
from .services.rejets import enregistrer_rejet
from .tasks import publier_notification

logger = logging.getLogger(__name__)

# A provider's notification is a few hundred bytes; far above that is not one.
TAILLE_MAX_CORPS = 64 * 1024
REJETS_PAR_MINUTE = 60
LONGUEUR_ID_EVENEMENT = NotificationRecue._meta.get_field("id_evenement").max_length
LONGUEUR_ID_PAIEMENT = Virement._meta.get_field("id_fournisseur").max_length


def _rejeter(request, nom_fournisseur: str, motif: str, corps: bytes, statut: int = 400):
    if depassee(request, "notifications_rejetees", REJETS_PAR_MINUTE, 60):
        return JsonResponse({"erreur": "trop_de_rejets"}, status=429)
    enregistrer_rejet(
        fournisseur=nom_fournisseur,
        motif=motif,
        adresse_ip=request.META.get("REMOTE_ADDR"),
        corps=corps,
    )
    logger.warning("Notification from %s rejected: %s", nom_fournisseur, motif)
    return JsonResponse({"erreur": motif}, status=statut)


def _identifiant_invalide(valeur, longueur: int) -> bool:
    return not isinstance(valeur, str) or not valeur or len(valeur) > longueur or "\x00" in valeur


def motif_inutilisable(corps: bytes, evenements) -> str | None:
    """Why a correctly signed body cannot be stored and processed, or None."""
    try:
        texte = corps.decode("utf-8")
    except UnicodeDecodeError:
        return "corps_non_utf8"
    if "\x00" in texte:
        return "caractere_nul"
    for evenement in evenements:
        if _identifiant_invalide(evenement.id_evenement, LONGUEUR_ID_EVENEMENT):
            return "identifiant_evenement_invalide"
        if _identifiant_invalide(evenement.id_fournisseur, LONGUEUR_ID_PAIEMENT):
            return "identifiant_paiement_invalide"
    return None


@csrf_exempt
@require_POST
def recevoir(request, nom_fournisseur: str):
    try:
        prestataire = fournisseur(nom_fournisseur)
    except KeyError:
        raise Http404("Unknown provider") from None
    if taille_annoncee(request) > TAILLE_MAX_CORPS:
        return _rejeter(request, nom_fournisseur, "corps_trop_volumineux", b"", 413)
    corps = request.read(TAILLE_MAX_CORPS + 1)
    if len(corps) > TAILLE_MAX_CORPS:
        return _rejeter(request, nom_fournisseur, "corps_trop_volumineux", corps, 413)
    try:
        prestataire.verify_notification(dict(request.headers), corps)
    except SignatureInvalide as exc:
        return _rejeter(request, nom_fournisseur, exc.motif, corps)
    except Exception:  # an adapter's bug must not answer 500 to anyone who posts
        logger.exception("Notification from %s: signature check failed", nom_fournisseur)
        return _rejeter(request, nom_fournisseur, "signature_illisible", corps)
    try:
        evenements = prestataire.parse_notification(corps)
    except Exception:  # signed, but the adapter cannot read it: refused, never a 500
        logger.info("Notification from %s unreadable", nom_fournisseur, exc_info=True)
        return _rejeter(request, nom_fournisseur, "corps_illisible", corps)
    motif = motif_inutilisable(corps, evenements)
    if motif is not None:
        return _rejeter(request, nom_fournisseur, motif, corps)
    texte = corps.decode("utf-8")
    nouvelles = 0
    # One INSERT per event, the duplicate check in it (ON CONFLICT DO NOTHING), the time of
    # queueing written with the row; a single event needs no transaction of its own.
    ensemble = transaction.atomic() if len(evenements) > 1 else contextlib.nullcontext()
    try:
        with ensemble:
            for evenement in evenements:
                notification = NotificationRecue(
                    fournisseur=nom_fournisseur,
                    id_evenement=evenement.id_evenement,
                    corps=texte,
                    mise_en_file_le=timezone.now(),
                )
                if not inserer_sauf_doublon(notification):
                    continue  # a duplicate: stored once already
                nouvelles += 1
                transaction.on_commit(
                    lambda pk=notification.pk: publier_notification(pk), robust=True
                )
    except DataError:  # a value the database refuses that the checks above missed
        logger.exception("Notification from %s not storable", nom_fournisseur)
        return _rejeter(request, nom_fournisseur, "corps_inutilisable", corps)
    return JsonResponse({"recu": len(evenements), "nouveaux": nouvelles})
