from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import Utilisateur

CHAMPS_FRANCECONNECT = (
    "fc_sub",
    "fc_family_name",
    "fc_given_name",
    "fc_birthdate",
    "fc_birthplace",
    "fc_birthcountry",
)


class TypeDeCompteFilter(admin.SimpleListFilter):
    title = "type de compte"
    parameter_name = "type"

    def lookups(self, request, model_admin):
        return [("personnel", "Personnel"), ("proche", "Proche (FranceConnect)")]

    def queryset(self, request, queryset):
        if self.value() == "personnel":
            return queryset.filter(fc_sub__isnull=True)
        if self.value() == "proche":
            return queryset.filter(fc_sub__isnull=False)
        return queryset


@admin.register(Utilisateur)
class UtilisateurAdmin(UserAdmin):
    """Staff accounts are managed here; a relative's identity comes from FranceConnect only
    and is read-only (refreshed at each login)."""

    list_display = ["username", "first_name", "last_name", "email", "is_staff", "is_active"]
    list_filter = [TypeDeCompteFilter, "is_staff", "is_superuser", "is_active", "groups"]
    search_fields = ["username", "first_name", "last_name", "email", "fc_family_name"]
    readonly_fields = [*CHAMPS_FRANCECONNECT, "last_login", "date_joined"]
    fieldsets = [
        *UserAdmin.fieldsets,
        ("Identité FranceConnect (proches, lecture seule)", {"fields": CHAMPS_FRANCECONNECT}),
    ]

    def get_readonly_fields(self, request, obj=None):
        champs = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.fc_sub:
            # A relative: nothing of their identity or rights is edited by hand.
            champs += ["username", "first_name", "last_name", "email", "is_staff", "is_superuser"]
        return champs

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    has_change_permission = has_add_permission = has_view_permission

    def has_delete_permission(self, request, obj=None):
        return False
