from django import forms

from .models import MessageContact


class FormulaireDsfr:
    """Gives a form's widgets the DSFR classes and, on error, the accessibility attributes
    that tie the message to its field."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for champ in self.fields.values():
            classe = "fr-select" if isinstance(champ.widget, forms.Select) else "fr-input"
            champ.widget.attrs.setdefault("class", classe)

    def full_clean(self):
        super().full_clean()
        for nom in self.errors:
            self._marquer_en_erreur(nom)

    def add_error(self, field, error):
        """Errors found after validation (a cap, a refused permit) are tied to their field
        for screen readers like the form's own."""
        super().add_error(field, error)
        if field is not None and hasattr(self, "cleaned_data"):
            self._marquer_en_erreur(field)

    def _marquer_en_erreur(self, nom: str) -> None:
        if nom not in self.fields:
            return
        attrs = self.fields[nom].widget.attrs
        attrs["aria-invalid"] = "true"
        attrs["aria-describedby"] = f"{self[nom].id_for_label}-erreurs"
        if "fr-input--error" not in attrs.get("class", ""):
            attrs["class"] = f"{attrs.get('class', '')} fr-input--error".strip()


class MessageContactForm(FormulaireDsfr, forms.ModelForm):
    class Meta:
        model = MessageContact
        fields = ["email", "sujet", "message", "reference_virement"]
        help_texts = {
            "reference_virement": "La référence figurant dans votre historique de virements.",
            "email": "Nous vous répondrons à cette adresse. Format attendu : nom@domaine.fr",
        }
        error_messages = {
            "email": {
                "required": "Indiquez l'adresse électronique à laquelle vous répondre.",
                "invalid": "Saisissez une adresse électronique valide, par exemple nom@domaine.fr.",
            },
            "sujet": {"required": "Indiquez le sujet de votre message."},
            "message": {"required": "Écrivez votre message."},
        }
        widgets = {
            "message": forms.Textarea(attrs={"rows": 6}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
        }
