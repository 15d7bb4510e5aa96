from django.apps import AppConfig


class RegieConfig(AppConfig):
    name = "regie"
    verbose_name = "Régie des comptes nominatifs"
