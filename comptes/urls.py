from django.urls import path
from mozilla_django_oidc.views import OIDCAuthenticationRequestView

from socle.limites import limiter

from . import views

# Starting a FranceConnect login stores its state and nonce in a new session row: anyone
# may do it, so each address starts at most this many per minute (socle.limites).
CONNEXIONS_FRANCECONNECT_PAR_MINUTE = 30

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
        limiter(
            "connexion_franceconnect",
            CONNEXIONS_FRANCECONNECT_PAR_MINUTE,
            60,
            methodes=("GET", "POST"),
        )(OIDCAuthenticationRequestView.as_view()),
        name="oidc_authentication_init",
    ),
    path(
        "oidc/callback/", views.RetourFranceConnect.as_view(), name="oidc_authentication_callback"
    ),
]
