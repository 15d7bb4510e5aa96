"""Helpers of the Django admin shared by the apps (this module registers no model), and
the « À faire » entries of the admin's home page."""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.contrib import admin
from django.contrib.admin.utils import unquote

from .formats import de, euros


class LectureSeuleMixin:
    """Rows only the services write: visible, never added, changed or deleted here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class TitreFrancaisMixin:
    """Page titles in correct French. Django's « Ajout de %s », « Modification de %s »
    and « Affichage de %s » ignore elision: « Affichage de écriture ». A title given by
    the ModelAdmin itself (extra_context) is kept."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        contexte = dict(extra_context or {})
        if "title" not in contexte:
            nom = str(self.opts.verbose_name)
            if object_id is None:
                action = "Ajout"
            else:
                objet = self.get_object(request, unquote(object_id))
                action = (
                    "Modification" if self.has_change_permission(request, objet) else "Affichage"
                )
            contexte["title"] = f"{action} {de(nom)}"
        return super().changeform_view(request, object_id, form_url, contexte)


def contexte_admin(model_admin, request, **contexte) -> dict:
    """The context of a custom admin page of `model_admin` (site header, breadcrumbs)."""
    return {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "app_label": model_admin.opts.app_label,
        "has_view_permission": model_admin.has_view_permission(request),
        **contexte,
    }


def montant_euros(champ: str, libelle: str):
    """A list or page column showing a money field the French way, « 1 234,50 € »."""

    @admin.display(description=libelle, ordering=champ)
    def colonne(self, obj):
        montant = getattr(obj, champ)
        return "–" if montant is None else euros(montant)

    return colonne


# --- « À faire »: what waits for a staff member, on the admin's home page -------------------


@dataclass(frozen=True, slots=True)
class AFaire:
    """One line of « À faire »: how many, what (in French, already agreed in number), and
    the page where it is done."""

    nombre: int
    libelle: str
    url: str


def a_faire(request) -> list[AFaire]:
    """What waits for the logged-in staff member, from every app that declares some.

    An app contributes by defining `a_faire(self, request) -> list[AFaire]` on its own
    AppConfig (scoped to what the user may see and do); nothing is registered anywhere
    and no app touches another's objects. Entries with nothing to do are left out."""
    entrees = []
    for configuration in apps.get_app_configs():
        fournisseur = getattr(configuration, "a_faire", None)
        if callable(fournisseur):
            entrees.extend(e for e in fournisseur(request) if e.nombre)
    return entrees
