from django.contrib import admin
from django.urls import include, path

from comptes.urls import urlpatterns_oidc

admin.site.site_header = "Pécule · Régie des comptes nominatifs"
admin.site.site_title = "Pécule – back-office"
admin.site.index_title = "Administration"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("permis.urls_api")),
    *urlpatterns_oidc,
    path("", include("comptes.urls")),
    path("", include("portail.urls_pages")),
]
