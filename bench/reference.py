"""The references of the benchmarks served by gunicorn. For the notifications: the floor of the endpoint's work on the
same gunicorn, the same middleware and the same database connection settings. It checks
the sandbox's HMAC signature exactly as the endpoint does (`verify_notification`) and
writes the body in one INSERT into a table of its own, nothing else: no parsing, no
inbox, no task. Served only by the benchmark (`bench/reglages_reference.py`), never by
the portal."""

from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from pecule.fournisseurs import fournisseur
from pecule.fournisseurs.base import SignatureInvalide

TABLE = "bench_reference_notification"
CREER_TABLE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} "
    "(id bigserial PRIMARY KEY, corps text NOT NULL, recue_le timestamptz NOT NULL DEFAULT now())"
)


@csrf_exempt
@require_POST
def reference(request):
    corps = request.read(64 * 1024 + 1)
    try:
        fournisseur("sandbox").verify_notification(dict(request.headers), corps)
    except SignatureInvalide as exc:
        return JsonResponse({"erreur": exc.motif}, status=400)
    with connection.cursor() as curseur:
        curseur.execute(f"INSERT INTO {TABLE} (corps) VALUES (%s)", [corps.decode()])  # noqa: S608
    return HttpResponse(b'{"recu": 1}', content_type="application/json")


@csrf_exempt
@require_POST
def reference_publiee(request):
    """The reference, and the task queued to the broker as the endpoint does after its
    commit (the worker is not running while the endpoint is measured)."""
    from socle.taches import publier

    reponse = reference(request)
    if reponse.status_code == 200:
        publier("pecule.tasks.traiter_notification", 0)
    return reponse


def vide(request):
    """The history benchmark's reference: a bare Django view through the same middleware."""
    return HttpResponse(b"ok", content_type="text/plain")


def urls():
    from portail.urls import urlpatterns

    return [
        path("__bench__/reference/", reference),
        path("__bench__/reference-publiee/", reference_publiee),
        path("__bench__/vide/", vide),
        *urlpatterns,
    ]
