from django.urls import path

from . import views

app_name = "releves"

urlpatterns = [
    path("", views.index, name="index"),
    path("demander/", views.demander, name="demander"),
    path("<int:pk>/statut/", views.statut, name="statut"),
    path("<int:pk>/telecharger/", views.telecharger, name="telecharger"),
]
