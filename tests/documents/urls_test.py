"""The portal's URLs plus the documents' routes, exactly as the wiring adds them (same
paths and views), for the tests to run whether or not the wiring is applied yet."""

from django.contrib import admin
from django.urls import include, path

import pecule.admin  # noqa: F401  (registers ReleveProche in the admin)
from portail.urls import urlpatterns as urlpatterns_portail
from regie import admin_documents
from regie.models import AutorisationD422, CompteNominatif


def _vue(modele, fonction):
    model_admin = admin.site._registry[modele]

    def appel(request, object_id):
        return fonction(model_admin, request, object_id)

    return admin.site.admin_view(appel)


urlpatterns = [
    *(
        path(f"admin/regie/comptenominatif/<int:object_id>/{route}", _vue(CompteNominatif, vue))
        for route, vue, _nom in admin_documents.OPERATIONS_COMPTE
    ),
    *(
        path(f"admin/regie/autorisationd422/<int:object_id>/{route}", _vue(AutorisationD422, vue))
        for route, vue, _nom in admin_documents.OPERATIONS_D422
    ),
    path("admin/", admin.site.urls),
    path("espace/pecule/releves/", include("pecule.releves.urls")),
    *urlpatterns_portail,
]
