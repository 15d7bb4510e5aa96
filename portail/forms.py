from django import forms

from socle.formulaires import FormulaireDsfr

from .models import MessageContact


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
