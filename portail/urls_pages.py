"""The site-wide public pages (home, legal pages, sitemap, contact)."""

from django.urls import path

from . import views

app_name = "portail"

urlpatterns = [
    path("", views.accueil_public, name="accueil_public"),
    path("contact/", views.contact, name="contact"),
    path(
        "mentions-legales/",
        views.page("mentions_legales", "Mentions légales"),
        name="mentions_legales",
    ),
    path(
        "donnees-personnelles/",
        views.page("donnees_personnelles", "Données personnelles"),
        name="donnees_personnelles",
    ),
    path("gestion-des-cookies/", views.page("cookies", "Gestion des cookies"), name="cookies"),
    path(
        "accessibilite/",
        views.page("accessibilite", "Déclaration d'accessibilité"),
        name="accessibilite",
    ),
    path("plan-du-site/", views.page("plan_du_site", "Plan du site"), name="plan_du_site"),
]
