from django.urls import path
from mozilla_django_oidc.views import OIDCAuthenticationRequestView

from . import views

app_name = "comptes"

urlpatterns = [
    path("connexion/erreur/", views.erreur, name="erreur"),
    path("deconnexion/", views.deconnexion, name="deconnexion"),
    path("deconnexion/fin/", views.deconnexion_fin, name="deconnexion_fin"),
]

# mozilla-django-oidc looks these up by their global names.
urlpatterns_oidc = [
    path(
        "oidc/authenticate/",
        OIDCAuthenticationRequestView.as_view(),
        name="oidc_authentication_init",
    ),
    path(
        "oidc/callback/", views.RetourFranceConnect.as_view(), name="oidc_authentication_callback"
    ),
]
