from django.contrib import admin

from .models import MessageContact


@admin.register(MessageContact)
class MessageContactAdmin(admin.ModelAdmin):
    """The support team's inbox: read the message, follow it up, never rewrite it."""

    list_display = ["sujet", "email", "reference_virement", "envoye_le", "statut"]
    list_filter = ["statut", "envoye_le"]
    search_fields = ["sujet", "message", "email", "reference_virement"]
    readonly_fields = ["proche", "email", "sujet", "message", "reference_virement", "envoye_le"]
    fields = [*readonly_fields, "statut", "note_interne"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
