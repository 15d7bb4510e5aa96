import uuid

from django import forms

from socle.formulaires import FormulaireDsfr


class MontantForm(FormulaireDsfr, forms.Form):
    """The grey box of « Alimenter le pécule ». The hidden token is the transfer's
    idempotency key: a double click or a reload never creates two payments."""

    montant = forms.DecimalField(
        label="Montant du virement (en euros)",
        max_digits=9,
        decimal_places=2,
        min_value=0.01,
        localize=True,
        help_text="Par exemple : 50 ou 25,50",
        error_messages={
            "required": "Indiquez le montant du virement.",
            "invalid": "Saisissez un montant en euros, par exemple 50 ou 25,50.",
            "min_value": "Le montant doit être supérieur à zéro.",
            "max_decimal_places": "Le montant ne peut pas avoir plus de deux décimales.",
            "max_digits": "Le montant est trop élevé.",
            "max_whole_digits": "Le montant est trop élevé.",
        },
    )
    jeton = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["montant"].widget.attrs.update({"inputmode": "decimal", "autocomplete": "off"})
