from django.apps import AppConfig


class PeculeConfig(AppConfig):
    name = "pecule"
    verbose_name = "Virements des proches"
