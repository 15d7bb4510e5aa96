from django.contrib import admin
from django.urls import include, path

from comptes.urls import urlpatterns_oidc
from pecule import notifications as pecule_notifications
from portail.sante import Sante
from portail.views import favicon
from socle.limites import limiter, taille_maximale

# The back-office's login form: django-axes locks a username after a few failures from
# one address, and records each failure; the attempts of one address, whatever the
# username, are limited too, so that no one can write failure records without bound.
CONNEXIONS_ADMIN_PAR_5_MINUTES = 30
TAILLE_MAX_CONNEXION_ADMIN = 16 * 1024

admin.site.site_header = "Pécule · Régie des comptes nominatifs"
admin.site.site_title = "Pécule – back-office"
admin.site.index_title = "Administration"

handler400 = "portail.views.demande_incorrecte"
handler403 = "portail.views.acces_refuse"
handler404 = "portail.views.page_non_trouvee"

urlpatterns = [
    path(
        "admin/login/",
        taille_maximale(TAILLE_MAX_CONNEXION_ADMIN)(
            limiter("connexion_admin", CONNEXIONS_ADMIN_PAR_5_MINUTES, 300)(admin.site.login)
        ),
    ),
    path("admin/", admin.site.urls),
    # Health of the database, Redis, the Celery workers and the media disk (portail.sante).
    path("sante/", Sante.as_view(), name="sante"),
    path("favicon.ico", favicon, name="favicon"),
    path("api/v1/", include("permis.urls_api")),
    path(
        "paiements/notifications/<slug:nom_fournisseur>/",
        pecule_notifications.recevoir,
        name="notifications_paiement",
    ),
    *urlpatterns_oidc,
    path("", include("comptes.urls")),
    path("espace/", include("permis.urls")),
    path("espace/pecule/releves/", include("pecule.releves.urls")),
    path("espace/pecule/", include("pecule.urls")),
    path("", include("portail.urls_pages")),
]
