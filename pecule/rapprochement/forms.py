"""The upload form of a régie bank statement (French messages)."""

from django import forms

from . import pain002
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


class ImportRapportForm(ImportReleveForm):
    """The bank's status report (pain.002) on a batch of outgoing transfers."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fichier = self.fields["fichier"]
        fichier.label = "Compte rendu pain.002 (fichier XML)"
        fichier.help_text = (
            "Le compte rendu de la banque sur une remise de virements, au format ISO 20022 "
            "pain.002.001.03. Un même fichier ne peut être importé qu'une fois."
        )
        fichier.error_messages["required"] = "Choisissez le fichier du compte rendu."

    def clean_fichier(self):
        fichier = self.cleaned_data["fichier"]
        if fichier.size > pain002.TAILLE_MAXIMALE:
            raise forms.ValidationError(
                f"Le fichier dépasse {pain002.TAILLE_MAXIMALE // (1024 * 1024)} Mo : ce n'est "
                "pas un compte rendu de remise."
            )
        return fichier
