"""CSV import of an establishment's visit permits (django-import-export).

The establishment is the one chosen in the import form, among those the importing staff
member is attached to; the file has no establishment column. Each row creates or
updates (by number) a permit of that establishment.

A file is imported whole or not at all: any invalid row (unknown écrou, bad date, bad
status, forbidden status change, duplicated number…) is reported with its line in the
file and the reason, and the import runs in one transaction that is rolled back (see
`admin.PermisDeVisiteAdmin`).

In bulk (issue 11): the file's existing permits and the establishment's detainees are
read once (`ChargeurPermis`, `before_import`), each row is checked in memory (no query
per row), and the whole file is written at the end by one service call
(`permis.services.importer_permis`: rights checked once, detainees locked, bulk inserts
and updates, one history entry per permit created or changed). A file above
LIGNES_MAX rows is refused with a French message before anything is read.
"""

import csv
import datetime

import tablib
from django.core.exceptions import ValidationError
from import_export import fields, resources, widgets
from import_export.formats.base_formats import CSV
from import_export.instance_loaders import ModelInstanceLoader

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
# A larger file is refused (it would not be previewed and imported within a request):
# split it. Measured in bench/bench_import_permis.py.
LIGNES_MAX = 10_000


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
        detenu = self.resource.detenu_par_ecrou(ecrou)
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


class ChargeurPermis(ModelInstanceLoader):
    """The file's existing permits of the establishment, read in one query, by number as
    stored (a row without a number is left to its own error)."""

    def __init__(self, resource, dataset=None):
        super().__init__(resource, dataset)
        numeros = {normaliser_numero(str(ligne.get("numero") or "")) for ligne in dataset.dict}
        self.existants = {
            permis.numero: permis
            for permis in resource.get_queryset()
            .filter(numero__in=numeros - {""})
            .select_related("detenu")
        }

    def get_instance(self, row):
        return self.existants.get(normaliser_numero(str(row.get("numero") or "")))


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
        instance_loader_class = ChargeurPermis
        # Checked in `validate_instance`, without the queries of unique and foreign keys.
        clean_model_instances = False
        use_transactions = True
        # The rows are collected and written at the end by `importer_permis`.
        use_bulk = True
        skip_diff = False
        store_instance = False

    def __init__(self, *, etablissement=None, auteur=None, **kwargs):
        super().__init__(**kwargs)
        self.etablissement = etablissement
        self.auteur = auteur
        self._numeros_vus = set()
        self._detenus: dict[str, Detenu] = {}
        self._detenus_normalises: dict[str, Detenu] = {}
        self._originaux: dict[int, dict] = {}
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

    def import_data(self, dataset, *args, **kwargs):
        if len(dataset) > LIGNES_MAX:  # the admin's form refuses it first
            resultat = self.get_result_class()()
            resultat.total_rows = len(dataset)
            resultat.append_base_error(
                self.get_error_result_class()(
                    ValueError(
                        f"Le fichier compte {len(dataset)} lignes de permis : un import en "
                        f"accepte au plus {LIGNES_MAX}. Découpez-le et importez chaque partie."
                    )
                )
            )
            return resultat
        return super().import_data(dataset, *args, **kwargs)

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
        self._originaux = {}
        self.create_instances, self.update_instances = [], []
        detenus = list(Detenu.objects.filter(etablissement=self.etablissement))
        self._detenus = {detenu.numero_ecrou: detenu for detenu in detenus}
        self._detenus_normalises = {normaliser_numero(d.numero_ecrou): d for d in detenus}

    def detenu_par_ecrou(self, ecrou: str) -> Detenu | None:
        """The establishment's detainee with this écrou number (as typed, or without
        spaces and case), from the list read once in `before_import`."""
        return self._detenus.get(ecrou) or self._detenus_normalises.get(normaliser_numero(ecrou))

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

    def import_instance(self, instance, row, **kwargs):
        if instance.pk is not None and instance.pk not in self._originaux:
            # What the permit was, for the status rules and the history of changes.
            self._originaux[instance.pk] = {
                champ: getattr(instance, champ) for champ in services.CHAMPS_MODIFIABLES
            }
        super().import_instance(instance, row, **kwargs)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        """The model's checks (fields, dates, the detainee held here) without a query:
        the number's uniqueness is the file's (`before_import_row`) and the database's;
        the detainee and the establishment come from the lists read once. Then the status
        rules of a permit that exists (`services.verifier_changements`)."""
        erreurs = dict(import_validation_errors or {})
        try:
            instance.full_clean(
                exclude=[*erreurs, "detenu", "etablissement"],
                validate_unique=False,
                validate_constraints=False,
            )
        except ValidationError as exc:
            erreurs = exc.update_error_dict(erreurs)
        original = self._originaux.get(instance.pk)
        if original is not None and not erreurs:
            nouveaux = {champ: getattr(instance, champ) for champ in services.CHAMPS_MODIFIABLES}
            try:
                services.verifier_changements(
                    original["statut"], services.changements_depuis(original, nouveaux)
                )
            except PermisError as exc:
                erreurs["statut"] = [exc.message]
        if erreurs:
            raise ValidationError(erreurs)

    # --- Saving: the whole file at once, through the service --------------------------------

    def bulk_create(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        """Nothing yet: `bulk_update`, called right after, writes the whole file."""

    def bulk_update(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        if not self.create_instances and not self.update_instances:
            return
        try:
            services.importer_permis(
                etablissement=self.etablissement,
                auteur=self.auteur,
                nouveaux=self.create_instances,
                modifies=[(p, self._originaux[p.pk]) for p in self.update_instances],
            )
        except Exception as exc:
            self.handle_import_error(result, exc, raise_errors)
        finally:
            self.create_instances.clear()
            self.update_instances.clear()
