"""Rate limits on anonymous writes (issue 11): a fixed-window counter per client address
in the shared cache (Redis in production, so every process counts together).

The client's address is `REMOTE_ADDR`, which `portail.middleware.AdresseClientMiddleware`
sets to the client's own address behind the trusted proxies. Each limit has a name, a
number of hits and a window in seconds; `settings.PECULE_LIMITES_ANONYMES` may override
them by name (`{"contact": (10, 3600)}`), e.g. for operations or tests.

- `depassee(request, nom, nombre, periode)` counts one hit and says whether the address
  went over the limit: for views that count only some requests (the notification
  endpoint counts its rejections only).
- `@limiter(nom, nombre, periode)` refuses with 429 the requests of the given methods
  beyond the limit, before the view runs (nothing is written).
- `@taille_maximale(octets)` refuses with 413 a body announced larger than that, before
  anything reads it.
"""

from __future__ import annotations

import functools
import time

from django.conf import settings
from django.core.cache import cache
from django.shortcuts import render

MESSAGE_TAILLE = "Votre envoi est trop volumineux : raccourcissez-le puis réessayez."
MESSAGE = (
    "Vous avez fait trop de demandes en peu de temps. Patientez quelques minutes avant de "
    "réessayer."
)


def _reglage(nom: str, nombre: int, periode: int) -> tuple[int, int]:
    nombre, periode = getattr(settings, "PECULE_LIMITES_ANONYMES", {}).get(nom, (nombre, periode))
    return int(nombre), int(periode)


def adresse(request) -> str:
    return request.META.get("REMOTE_ADDR") or "inconnue"


def depassee(request, nom: str, nombre: int, periode: int) -> bool:
    """Count one hit of `nom` for the request's address in the current window; True once
    the address has made more than `nombre` hits in it."""
    nombre, periode = _reglage(nom, nombre, periode)
    fenetre = int(time.time() // periode)
    cle = f"pecule:limite:{nom}:{adresse(request)}:{fenetre}"
    if cache.add(cle, 1, timeout=periode + 5):
        compte = 1
    else:
        try:
            compte = cache.incr(cle)
        except ValueError:  # expired between add and incr
            cache.set(cle, 1, timeout=periode + 5)
            compte = 1
    return compte > nombre


def reponse_trop_de_demandes(request):
    """The French 429 page of the public layout (nothing was written)."""
    return render(
        request,
        "trop_de_demandes.html",
        {"titre": "Trop de demandes", "message": MESSAGE},
        status=429,
    )


def taille_annoncee(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def limiter(nom: str, nombre: int, periode: int, *, methodes=("POST",), reponse=None):
    """Decorator: beyond `nombre` requests (of `methodes`) per address and `periode`
    seconds, answer `reponse(request)` (by default the 429 page) without calling the view."""

    def decorateur(vue):
        @functools.wraps(vue)
        def enveloppe(request, *args, **kwargs):
            if request.method in methodes and depassee(request, nom, nombre, periode):
                return (reponse or reponse_trop_de_demandes)(request)
            return vue(request, *args, **kwargs)

        return enveloppe

    return decorateur


def taille_maximale(octets: int):
    """Decorator: a request whose body is announced larger than `octets` gets the 413
    page; the view never runs and nothing reads the body."""

    def decorateur(vue):
        @functools.wraps(vue)
        def enveloppe(request, *args, **kwargs):
            if taille_annoncee(request) > octets:
                return render(
                    request,
                    "trop_de_demandes.html",
                    {"titre": "Envoi trop volumineux", "message": MESSAGE_TAILLE},
                    status=413,
                )
            return vue(request, *args, **kwargs)

        return enveloppe

    return decorateur
