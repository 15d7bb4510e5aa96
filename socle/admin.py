"""Helpers of the Django admin shared by the apps (this module registers no model)."""


class LectureSeuleMixin:
    """Rows only the services write: visible, never added, changed or deleted here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def contexte_admin(model_admin, request, **contexte) -> dict:
    """The context of a custom admin page of `model_admin` (site header, breadcrumbs)."""
    return {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "app_label": model_admin.opts.app_label,
        "has_view_permission": model_admin.has_view_permission(request),
        **contexte,
    }
