from django.contrib import admin
from django.urls import path

admin.site.site_header = "Pécule · Régie des comptes nominatifs"
admin.site.site_title = "Pécule – back-office"
admin.site.index_title = "Administration"

urlpatterns = [
    path("admin/", admin.site.urls),
]
