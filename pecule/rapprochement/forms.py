"""The upload form of a régie bank statement (French messages)."""

from django import forms

from .camt import TAILLE_MAXIMALE


class ImportReleveForm(forms.Form):
    etablissement = forms.ModelChoiceField(
        label="Établissement",
        queryset=None,
        error_messages={
            "required": "Choisissez l'établissement dont la régie a reçu ce relevé.",
            "invalid_choice": "Choisissez l'un de vos établissements.",
        },
    )
    fichier = forms.FileField(
        label="Relevé camt.053 (fichier XML)",
        help_text="Le relevé de compte de la régie fourni par la banque, au format ISO 20022 "
        "camt.053 (versions 001.02 ou 001.08). Un même fichier ne peut être importé "
        "qu'une fois.",
        error_messages={
            "required": "Choisissez le fichier du relevé.",
            "empty": "Le fichier envoyé est vide.",
            "invalid": "Aucun fichier n'a été envoyé.",
        },
    )

    def __init__(self, *args, etablissements, **kwargs):
        super().__init__(*args, **kwargs)
        champ = self.fields["etablissement"]
        champ.queryset = etablissements
        if len(etablissements) == 1:
            champ.initial = etablissements[0].pk
            champ.empty_label = None

    def clean_fichier(self):
        fichier = self.cleaned_data["fichier"]
        if fichier.size > TAILLE_MAXIMALE:
            raise forms.ValidationError(
                f"Le fichier dépasse {TAILLE_MAXIMALE // (1024 * 1024)} Mo : ce n'est pas un "
                "relevé quotidien de la régie."
            )
        return fichier
