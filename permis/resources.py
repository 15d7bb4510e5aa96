"""CSV import of an establishment's visit permits (django-import-export).

The establishment is the one chosen in the import form, among those the importing staff
member is attached to; the file has no establishment column. Each row creates or
updates (by number) a permit of that establishment through
`permis.services.creer_ou_mettre_a_jour_permis`.

A file is imported whole or not at all: any invalid row (unknown écrou, bad date, bad
status, duplicated number…) is reported with its line in the file and the reason, and
the import runs in one transaction that is rolled back (see `admin.PermisDeVisiteAdmin`).
"""

import csv
import datetime

import tablib
from django.core.exceptions import ValidationError
from import_export import fields, resources, widgets
from import_export.formats.base_formats import CSV

from regie.models import Detenu

from . import services
from .exceptions import PermisError
from .identite import normaliser
from .models import PermisDeVisite, StatutPermis, normaliser_numero

COLONNES_OBLIGATOIRES = [
    "numero",
    "numero_ecrou",
    "titulaire_nom",
    "titulaire_prenoms",
    "titulaire_date_naissance",
    "date_debut",
]
COLONNES_FACULTATIVES = ["date_fin", "statut", "lien"]
FORMATS_DATE = ("%d/%m/%Y", "%Y-%m-%d")


class CSVPointVirgule(CSV):
    """CSV in UTF-8 (with or without BOM) or Windows-1252, whose separator is a comma or
    a semicolon (what a French spreadsheet writes), detected from the header line."""

    def is_binary(self):
        return True  # decoded here, to accept the spreadsheets' Windows encoding

    def get_read_mode(self):
        return "rb"

    def create_dataset(self, in_stream, **kwargs):
        if isinstance(in_stream, bytes):
            try:
                in_stream = in_stream.decode("utf-8-sig")
            except UnicodeDecodeError:
                in_stream = in_stream.decode("cp1252")
        in_stream = in_stream.lstrip("\ufeff")
        entete = in_stream.split("\n", 1)[0]
        try:
            separateur = csv.Sniffer().sniff(entete, delimiters=",;").delimiter
        except csv.Error:
            separateur = ","
        return tablib.import_set(in_stream, format="csv", delimiter=separateur, **kwargs)


class NumeroWidget(widgets.CharWidget):
    def clean(self, value, row=None, **kwargs):
        numero = normaliser_numero(str(value or ""))
        if not numero:
            raise ValueError("Le numéro du permis est obligatoire.")
        return numero


class TexteObligatoireWidget(widgets.CharWidget):
    def __init__(self, libelle: str, **kwargs):
        super().__init__(**kwargs)
        self.libelle = libelle

    def clean(self, value, row=None, **kwargs):
        texte = " ".join(str(value or "").split())
        if not texte:
            raise ValueError(f"{self.libelle} est obligatoire.")
        return texte


class DateFrancaiseWidget(widgets.DateWidget):
    """JJ/MM/AAAA or AAAA-MM-JJ, with a French error message."""

    def __init__(self, obligatoire: bool = True):
        super().__init__(format="%d/%m/%Y")
        self.obligatoire = obligatoire

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, datetime.date):
            return value
        texte = str(value or "").strip()
        if not texte:
            if self.obligatoire:
                raise ValueError("Date obligatoire (JJ/MM/AAAA ou AAAA-MM-JJ).")
            return None
        for format_date in FORMATS_DATE:
            try:
                return datetime.datetime.strptime(texte, format_date).date()
            except ValueError:
                continue
        raise ValueError(
            f"Date invalide « {texte} » : attendue au format JJ/MM/AAAA ou AAAA-MM-JJ."
        )


class StatutWidget(widgets.Widget):
    """A status by its code or its label, without case or accents; empty means active."""

    def clean(self, value, row=None, **kwargs):
        texte = normaliser(str(value or ""))
        if not texte:
            return StatutPermis.ACTIF
        for code, libelle in StatutPermis.choices:
            if texte in (normaliser(code), normaliser(libelle)):
                return code
        attendus = ", ".join(code for code in StatutPermis.values)
        raise ValueError(f"Statut inconnu « {value} » : attendu {attendus}.")

    def render(self, value, obj=None, **kwargs):
        return value or ""


class DetenuParEcrouWidget(widgets.Widget):
    """The detainee with this écrou number in the establishment being imported into."""

    def __init__(self, resource: "PermisDeVisiteResource"):
        super().__init__()
        self.resource = resource

    def clean(self, value, row=None, **kwargs):
        ecrou = str(value or "").strip()
        if not ecrou:
            raise ValueError("Le numéro d'écrou est obligatoire.")
        detenus = Detenu.objects.filter(etablissement=self.resource.etablissement)
        detenu = detenus.filter(numero_ecrou=ecrou).first()
        if detenu is None:
            cle = normaliser_numero(ecrou)
            detenu = next(
                (
                    d
                    for d in detenus.filter(numero_ecrou__iexact=ecrou.replace(" ", ""))
                    if normaliser_numero(d.numero_ecrou) == cle
                ),
                None,
            )
        if detenu is None:
            raise ValueError(
                f"Aucune personne détenue n'a le numéro d'écrou « {ecrou} » dans "
                f"l'établissement {self.resource.etablissement.nom}."
            )
        if detenu.libere_le is not None:
            raise ValueError(
                f"La personne détenue n° d'écrou « {ecrou} » a été libérée le "
                f"{detenu.libere_le:%d/%m/%Y}."
            )
        return detenu

    def render(self, value, obj=None, **kwargs):
        return value.numero_ecrou if value else ""


class PermisDeVisiteResource(resources.ModelResource):
    numero = fields.Field(attribute="numero", column_name="numero", widget=NumeroWidget())
    titulaire_nom = fields.Field(
        attribute="titulaire_nom",
        column_name="titulaire_nom",
        widget=TexteObligatoireWidget("Le nom du titulaire"),
    )
    titulaire_prenoms = fields.Field(
        attribute="titulaire_prenoms",
        column_name="titulaire_prenoms",
        widget=TexteObligatoireWidget("Les prénoms du titulaire"),
    )
    titulaire_date_naissance = fields.Field(
        attribute="titulaire_date_naissance",
        column_name="titulaire_date_naissance",
        widget=DateFrancaiseWidget(),
    )
    date_debut = fields.Field(
        attribute="date_debut", column_name="date_debut", widget=DateFrancaiseWidget()
    )
    date_fin = fields.Field(
        attribute="date_fin", column_name="date_fin", widget=DateFrancaiseWidget(obligatoire=False)
    )
    statut = fields.Field(attribute="statut", column_name="statut", widget=StatutWidget())
    lien = fields.Field(attribute="lien", column_name="lien", widget=widgets.CharWidget())

    class Meta:
        model = PermisDeVisite
        name = "Permis de visite (CSV)"
        fields = (
            "numero",
            "titulaire_nom",
            "titulaire_prenoms",
            "titulaire_date_naissance",
            "date_debut",
            "date_fin",
            "statut",
            "lien",
        )
        import_id_fields = ["numero"]
        clean_model_instances = True
        use_transactions = True
        skip_diff = False
        store_instance = False

    def __init__(self, *, etablissement=None, auteur=None, **kwargs):
        super().__init__(**kwargs)
        self.etablissement = etablissement
        self.auteur = auteur
        self._numeros_vus = set()
        self.fields["numero_ecrou"] = fields.Field(
            attribute="detenu", column_name="numero_ecrou", widget=DetenuParEcrouWidget(self)
        )

    # --- Scoping: the establishment of the import form ----------------------------------

    def get_queryset(self):
        return PermisDeVisite.objects.filter(etablissement=self.etablissement)

    def init_instance(self, row=None):
        return PermisDeVisite(etablissement=self.etablissement)

    def get_import_order(self):
        return [*COLONNES_OBLIGATOIRES, *COLONNES_FACULTATIVES]

    def get_user_visible_fields(self):
        return [self.fields[nom] for nom in self.get_import_order()]

    # --- Checks of the whole file and of each row -----------------------------------------

    def before_import(self, dataset, **kwargs):
        if self.etablissement is None:
            raise ValueError("Choisissez l'établissement des permis importés.")
        entetes = [str(h or "").strip() for h in dataset.headers or []]
        dataset.headers = entetes
        manquantes = [c for c in COLONNES_OBLIGATOIRES if c not in entetes]
        if manquantes:
            raise ValueError(
                "Colonnes manquantes dans le fichier : "
                + ", ".join(manquantes)
                + ". La première ligne doit nommer les colonnes : "
                + ", ".join(COLONNES_OBLIGATOIRES + COLONNES_FACULTATIVES)
                + "."
            )
        self._numeros_vus = set()

    def before_import_row(self, row, **kwargs):
        numero = normaliser_numero(str(row.get("numero") or ""))
        if not numero:
            raise ValidationError({"numero": "Le numéro du permis est obligatoire."})
        if numero in self._numeros_vus:
            raise ValidationError(
                {"numero": f"Le permis n° {numero} figure plusieurs fois dans le fichier."}
            )
        self._numeros_vus.add(numero)

    def import_row(self, row, instance_loader, **kwargs):
        resultat = super().import_row(row, instance_loader, **kwargs)
        erreur = resultat.validation_error
        if erreur is not None and hasattr(erreur, "error_dict") and "detenu" in erreur.error_dict:
            # Report errors on the detainee under the file's column name.
            erreurs = dict(erreur.error_dict)
            erreurs["numero_ecrou"] = erreurs.pop("detenu")
            resultat.validation_error = ValidationError(erreurs)
        return resultat

    # --- Saving through the service ---------------------------------------------------------

    def do_instance_save(self, instance, is_create):
        try:
            permis, _cree = services.creer_ou_mettre_a_jour_permis(
                etablissement=self.etablissement,
                numero=instance.numero,
                auteur=self.auteur,
                detenu=instance.detenu,
                titulaire_nom=instance.titulaire_nom,
                titulaire_prenoms=instance.titulaire_prenoms,
                titulaire_date_naissance=instance.titulaire_date_naissance,
                date_debut=instance.date_debut,
                date_fin=instance.date_fin,
                lien=instance.lien,
                statut=instance.statut,
            )
        except PermisError as exc:
            raise ValidationError({"statut": exc.message}) from exc
        instance.pk = permis.pk
        instance._state.adding = False
