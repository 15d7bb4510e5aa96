"""The API mounted as the lead will mount it (/api/v1/), and the admin."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("permis.urls_api")),
]
