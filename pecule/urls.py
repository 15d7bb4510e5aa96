from django.urls import path

from . import views

app_name = "pecule"

urlpatterns = [
    path("", views.index, name="index"),
    path("historique/", views.historique, name="historique"),
    path("<int:pk>/", views.detenu, name="detenu"),
    path("<int:pk>/alimenter/", views.alimenter, name="alimenter"),
    path("<int:pk>/repartition/", views.repartition, name="repartition"),
    path("virement/<uuid:cle>/", views.virement, name="virement"),
    path("virement/<uuid:cle>/retour/", views.retour, name="retour"),
    path("virement/<uuid:cle>/confirmer/", views.confirmer, name="confirmer"),
]
