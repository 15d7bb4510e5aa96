from django.urls import path

from . import views

app_name = "permis"

urlpatterns = [
    path("", views.accueil, name="accueil"),
    path("permis/ajouter/", views.ajouter, name="ajouter"),
]
