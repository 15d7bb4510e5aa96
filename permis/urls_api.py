"""URLs of the information systems' API; the project includes them under /api/v1/."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from . import api

app_name = "permis_api"

urlpatterns = [
    path("permis/", api.PermisCollectionVue.as_view(), name="permis"),
    path("permis/<str:numero>/", api.PermisDetailVue.as_view(), name="permis-detail"),
    path("permis/<str:numero>/retrait/", api.PermisRetraitVue.as_view(), name="permis-retrait"),
    path(
        "permis/<str:numero>/suspension/",
        api.PermisSuspensionVue.as_view(),
        name="permis-suspension",
    ),
    path("detenus/<str:numero_ecrou>/", api.DetenuVue.as_view(), name="detenu"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
]
