"""The DSFR form base of the public pages.

django-dsfr's own `DsfrBaseForm` renders fields through its own templates and does not
tie an error added after validation to its field; the portal's templates render each
field themselves, so this mixin only sets the DSFR classes and the accessibility
attributes.
"""

from django import forms


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
