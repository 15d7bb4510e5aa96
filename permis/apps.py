from django.apps import AppConfig


class PermisConfig(AppConfig):
    name = "permis"
    verbose_name = "Permis de visite"
