"""The providers' notification endpoint: verify the signature on the raw body, store the
events in the inbox (once per provider + event id), queue their processing after commit,
and answer fast. Nothing else happens here."""

import json
import logging

from django.db import IntegrityError, transaction
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .fournisseurs import fournisseur
from .fournisseurs.base import SignatureInvalide
from .models import NotificationRecue, NotificationRejetee
from .tasks import publier_notification

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def recevoir(request, nom_fournisseur: str):
    try:
        prestataire = fournisseur(nom_fournisseur)
    except KeyError:
        raise Http404("Unknown provider") from None
    corps = request.body
    try:
        prestataire.verify_notification(dict(request.headers), corps)
        evenements = prestataire.parse_notification(corps)
    except (SignatureInvalide, ValueError, KeyError, json.JSONDecodeError) as exc:
        motif = exc.motif if isinstance(exc, SignatureInvalide) else "corps_illisible"
        NotificationRejetee.objects.create(
            fournisseur=nom_fournisseur,
            motif=motif,
            adresse_ip=request.META.get("REMOTE_ADDR"),
            extrait=corps[:500].decode("utf-8", "replace"),
        )
        logger.warning("Notification from %s rejected: %s", nom_fournisseur, motif)
        return JsonResponse({"erreur": motif}, status=400)
    nouvelles = 0
    for evenement in evenements:
        try:
            with transaction.atomic():
                notification = NotificationRecue.objects.create(
                    fournisseur=nom_fournisseur,
                    id_evenement=evenement.id_evenement,
                    corps=corps.decode("utf-8"),
                )
        except IntegrityError:
            continue  # a duplicate: stored once already
        nouvelles += 1
        transaction.on_commit(lambda pk=notification.pk: publier_notification(pk), robust=True)
    return JsonResponse({"recu": len(evenements), "nouveaux": nouvelles})
