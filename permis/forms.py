from django import forms

from regie.models import Etablissement
from socle.formulaires import FormulaireDsfr


class AjoutPermisForm(FormulaireDsfr, forms.Form):
    """« Ajouter un permis de visite »: the permit as printed, and the detainee's identity
    (numéro d'écrou, or name and birth date)."""

    numero = forms.CharField(
        label="Numéro du permis de visite",
        max_length=50,
        error_messages={"required": "Indiquez le numéro du permis de visite."},
    )
    etablissement = forms.ModelChoiceField(
        label="Établissement pénitentiaire",
        queryset=Etablissement.objects.order_by("nom"),
        empty_label="Sélectionnez l'établissement",
        error_messages={
            "required": "Sélectionnez l'établissement indiqué sur le permis.",
            "invalid_choice": "Sélectionnez l'établissement indiqué sur le permis.",
        },
    )
    numero_ecrou = forms.CharField(
        label="Numéro d'écrou de la personne détenue",
        max_length=20,
        required=False,
        help_text="Ou, à défaut, son nom et sa date de naissance ci-dessous.",
    )
    nom_detenu = forms.CharField(label="Nom de la personne détenue", max_length=150, required=False)
    date_naissance_detenu = forms.DateField(
        label="Date de naissance de la personne détenue",
        required=False,
        help_text="Format attendu : JJ/MM/AAAA",
        input_formats=["%d/%m/%Y", "%Y-%m-%d"],
        error_messages={
            "invalid": "Saisissez une date au format JJ/MM/AAAA, par exemple 14/03/1975."
        },
    )

    def clean(self):
        donnees = super().clean()
        ecrou = (donnees.get("numero_ecrou") or "").strip()
        nom = (donnees.get("nom_detenu") or "").strip()
        naissance = donnees.get("date_naissance_detenu")
        if not ecrou and not (nom and naissance) and "date_naissance_detenu" not in self.errors:
            raise forms.ValidationError(
                "Indiquez le numéro d'écrou de la personne détenue, ou son nom et sa date de naissance."
            )
        return donnees
