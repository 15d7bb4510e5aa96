"""Scoping of the back-office by establishment, for every app's ModelAdmins.

Each ModelAdmin says how its model reaches the establishments allowed to see it:
`chemin_etablissement = "detenu__etablissement"` (a lookup path to an `Etablissement`),
or a tuple of such paths, OR-ed. A staff member then sees only the rows of the
establishments they are attached to (`regie.Affectation`, read by
`selectors.etablissements_geres`); another establishment's object, or a missing one, is a
404; a foreign key offers only the rows the related model's own ModelAdmin would show.
A superuser sees everything. Nothing is deleted.

It lives in the régie because the attachment of staff to establishments is the régie's.
"""

from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models import Q
from django.http import Http404

from socle.admin import TitreFrancaisMixin

from . import selectors


def filtrer_par_etablissement(queryset, utilisateur, chemins: str | tuple[str, ...]):
    """`queryset` restricted to the rows whose `chemins` lead to one of the user's
    establishments (everything for a superuser)."""
    if utilisateur.is_superuser:
        return queryset
    etablissements = selectors.etablissements_geres(utilisateur)
    condition = Q()
    for chemin in (chemins,) if isinstance(chemins, str) else chemins:
        condition |= Q(**{f"{chemin}__in": etablissements})
    return queryset.filter(condition)


class PerimetreMixin(TitreFrancaisMixin):
    """Scoping by establishment (see the module), real 404s, no deletion, French decimal
    input, French titles. Subclasses set `chemin_etablissement`."""

    chemin_etablissement: str | tuple[str, ...] | None = None
    formfield_overrides = {models.DecimalField: {"localize": True}}

    def dans_le_perimetre(self, queryset, utilisateur):
        if not self.chemin_etablissement:
            raise ImproperlyConfigured(
                f"{type(self).__name__} must say how its model reaches the establishments "
                "(chemin_etablissement)."
            )
        return filtrer_par_etablissement(queryset, utilisateur, self.chemin_etablissement)

    def get_queryset(self, request):
        return self.dans_le_perimetre(super().get_queryset(request), request.user)

    def get_object(self, request, object_id, from_field=None):
        # Django redirects to the index with a message for a missing object; an object
        # outside the user's establishments must not even be acknowledged: 404.
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(f"{self.opts.verbose_name.capitalize()} introuvable.")
        return obj

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        admin_lie = self.admin_site._registry.get(db_field.related_model)
        if isinstance(admin_lie, PerimetreMixin) and "queryset" not in kwargs:
            kwargs["queryset"] = admin_lie.dans_le_perimetre(
                db_field.related_model._default_manager.all(), request.user
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_delete_permission(self, request, obj=None):
        return False
