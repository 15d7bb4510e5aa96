from django.apps import AppConfig


class SocleConfig(AppConfig):
    name = "socle"
    verbose_name = "Socle commun"
