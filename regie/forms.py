"""Forms of the régie back-office (Django admin).

They only check the shape of the input (amounts in euros with two decimals, required
reason, dates) and carry the idempotency token; every rule of the régie is applied by
`regie.services`, which the admin views call with the cleaned data.
"""

import uuid
from decimal import Decimal

from django import forms
from django.conf import settings

from socle.dates import aujourdhui

from . import services
from .models import (
    ChoixReliquat,
    DecisionMagistrat,
    Detenu,
    Ecriture,
    Etablissement,
    NatureEcriture,
    TypeCreancier,
    TypePrescriptionJap,
    TypeSuspension,
)

CENT = Decimal("0.01")

NATURES_RECETTE = [
    NatureEcriture.SUBSIDE_PROCHE,
    NatureEcriture.SALAIRE,
    NatureEcriture.FORMATION,
    NatureEcriture.NUMERAIRE_ECROU,
    NatureEcriture.AUTRE_RECETTE,
    NatureEcriture.CAPITAL_RENTE_AT,
]
NATURES_DEBIT = [
    NatureEcriture.CANTINE,
    NatureEcriture.LOCATION,
    NatureEcriture.VIREMENT_SORTANT,
    NatureEcriture.REMISE_DETENU,
    NatureEcriture.AUTRE_DEBIT,
]


def _choix(natures) -> list[tuple[str, str]]:
    return [(nature.value, nature.label) for nature in natures]


def jeton_neuf() -> uuid.UUID:
    return uuid.uuid4()


class MontantField(forms.DecimalField):
    """An amount in euros: positive, at most two decimals, comma or point accepted."""

    def __init__(self, *, label="Montant (€)", autoriser_zero=False, **kwargs):
        minimum = Decimal("0.00") if autoriser_zero else CENT
        message_minimum = (
            "Le montant ne peut pas être négatif."
            if autoriser_zero
            else "Le montant doit être strictement positif."
        )
        kwargs.setdefault(
            "error_messages",
            {
                "required": "Indiquez le montant.",
                "invalid": "Saisissez un montant en euros, par exemple 12,50.",
                "min_value": message_minimum,
                "max_decimal_places": "Le montant ne peut pas avoir plus de deux décimales "
                "(centimes).",
                "max_digits": "Le montant est trop élevé.",
                "max_whole_digits": "Le montant est trop élevé.",
            },
        )
        super().__init__(
            label=label,
            max_digits=12,
            decimal_places=2,
            min_value=minimum,
            localize=True,
            **kwargs,
        )
        self.widget.attrs.setdefault("inputmode", "decimal")
        self.widget.attrs.setdefault("autocomplete", "off")

    def to_python(self, value):
        montant = super().to_python(value)
        # "12,50" and "12,500" are the same amount; "12,505" keeps its three decimals
        # and is refused by the validators.
        if montant is not None and montant.is_finite() and montant == montant.quantize(CENT):
            montant = montant.quantize(CENT)
        return montant


class DateFrancaiseInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def champ_date(label: str, *, required=True, initial=aujourdhui, help_text="") -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        initial=initial,
        widget=DateFrancaiseInput(),
        help_text=help_text,
        error_messages={
            "required": "Indiquez la date.",
            "invalid": "Saisissez une date valide (jj/mm/aaaa).",
        },
    )


class FormulaireRegie(forms.Form):
    """Every form of the back-office carries a one-time token, generated when the form
    is displayed, that identifies the submission: a double submit books once."""

    jeton = forms.UUIDField(
        widget=forms.HiddenInput,
        initial=jeton_neuf,
        error_messages={
            "required": "Ce formulaire a expiré : rechargez la page et recommencez.",
            "invalid": "Ce formulaire a expiré : rechargez la page et recommencez.",
        },
    )

    required_css_class = "required"

    @property
    def source(self) -> str:
        """The ledger `source` of the movement: unique per displayed form."""
        return f"admin:{self.cleaned_data['jeton']}"

    def arguments(self) -> dict:
        """The service's keyword arguments this form collected (the token aside)."""
        return {nom: valeur for nom, valeur in self.cleaned_data.items() if nom != "jeton"}


class MotifSeulMixin(forms.Form):
    motif = forms.CharField(
        label="Motif",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=2000,
        error_messages={"required": "Le motif de l'opération est obligatoire."},
    )

    def clean_motif(self):
        motif = self.cleaned_data["motif"].strip()
        if not motif:
            raise forms.ValidationError("Le motif de l'opération est obligatoire.")
        return motif


class MotifMixin(MotifSeulMixin):
    piece = forms.CharField(
        label="Pièce justificative",
        required=False,
        max_length=200,
        help_text="Référence de la pièce (bon de cantine, bulletin de paie, réquisition…).",
    )


class DateOperationMixin(forms.Form):
    date_operation = champ_date("Date d'opération")

    def clean_date_operation(self):
        jour = self.cleaned_data["date_operation"]
        if jour > aujourdhui():
            raise forms.ValidationError("La date d'opération ne peut pas être dans le futur.")
        return jour


class CoordonneesBancairesMixin(forms.Form):
    """Who a payment order pays, typed from the supporting document; checked by the
    service (schwifty: country, length, checksums)."""

    beneficiaire = forms.CharField(
        label="Bénéficiaire du virement",
        max_length=70,
        help_text="Nom du titulaire du compte, tel qu'il figure sur la pièce (70 caractères au plus).",
        error_messages={"required": "Le bénéficiaire du virement est obligatoire."},
    )
    iban = forms.CharField(
        label="IBAN du bénéficiaire",
        max_length=42,
        help_text="Format attendu : FR76 3000 6000 0112 3456 7890 189 (espaces acceptés).",
        error_messages={"required": "L'IBAN du bénéficiaire est obligatoire."},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    bic = forms.CharField(
        label="BIC (facultatif)",
        max_length=11,
        required=False,
        help_text="8 ou 11 caractères, s'il figure sur le RIB.",
    )


# --- Account movements ----------------------------------------------------------------


class RecetteForm(FormulaireRegie, DateOperationMixin, MotifMixin):
    nature = forms.ChoiceField(label="Nature de la recette", choices=_choix(NATURES_RECETTE))
    montant = MontantField()
    emetteur = forms.CharField(
        label="Émetteur",
        required=False,
        max_length=100,
        help_text="Facultatif : qui a versé la somme (proche, employeur…).",
    )
    field_order = ["nature", "montant", "date_operation", "emetteur", "motif", "piece"]


class DebitForm(FormulaireRegie, DateOperationMixin, MotifMixin, CoordonneesBancairesMixin):
    nature = forms.ChoiceField(label="Nature du débit", choices=_choix(NATURES_DEBIT))
    montant = MontantField()
    field_order = [
        "nature",
        "montant",
        "date_operation",
        "motif",
        "piece",
        "beneficiaire",
        "iban",
        "bic",
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for nom in ("beneficiaire", "iban"):
            self.fields[nom].required = False
            self.fields[nom].help_text = (
                "Pour un envoi d'argent à l'extérieur seulement : payé par un ordre de "
                "virement, validé par une seconde personne."
            )


class PaiementPartiesCivilesForm(
    FormulaireRegie, DateOperationMixin, MotifMixin, CoordonneesBancairesMixin
):
    montant = MontantField()
    type_creancier = forms.ChoiceField(
        label="Créancier",
        choices=TypeCreancier.choices,
        initial=TypeCreancier.VICTIME,
        widget=forms.RadioSelect,
        help_text="Les créanciers d'aliments sont payés avant les victimes (L. 332-2).",
    )
    field_order = [
        "montant",
        "type_creancier",
        "beneficiaire",
        "iban",
        "bic",
        "date_operation",
        "motif",
        "piece",
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["piece"].help_text = "Référence de la réquisition du procureur (D. 332-11)."


class DeblocagePeculeForm(
    FormulaireRegie, DateOperationMixin, MotifMixin, CoordonneesBancairesMixin
):
    montant = MontantField()
    field_order = ["montant", "beneficiaire", "iban", "bic", "date_operation", "motif", "piece"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["motif"].help_text = (
            "Dépenses de réinsertion justifiées, dans le cadre d'un aménagement de peine "
            "sous écrou (D. 424-3)."
        )


class FixerPermissionForm(FormulaireRegie):
    montant = MontantField(label="Somme remise pour la permission (€)")
    date_sortie = champ_date("Date de la permission de sortir", initial=None)


class RemisePermissionForm(FormulaireRegie):
    date_operation = champ_date("Date de la remise")


class RetourPermissionForm(FormulaireRegie):
    montant_rapporte = MontantField(label="Somme rapportée (€)", autoriser_zero=True)
    date_operation = champ_date("Date du retour")


class TransfertForm(FormulaireRegie):
    vers = forms.ModelChoiceField(
        label="Établissement de destination",
        queryset=Etablissement.objects.none(),
        error_messages={
            "required": "Choisissez l'établissement de destination.",
            "invalid_choice": "Choisissez un établissement de la liste.",
        },
    )
    nouveau_numero_ecrou = forms.CharField(
        label="Numéro d'écrou dans l'établissement de destination", max_length=20
    )
    date_operation = champ_date("Date du transfert")

    def __init__(self, *args, detenu: Detenu, **kwargs):
        super().__init__(*args, **kwargs)
        # Any other prison of the administration may receive the detainee.
        self.fields["vers"].queryset = Etablissement.objects.exclude(pk=detenu.etablissement_id)


class LiberationForm(FormulaireRegie):
    SORTS = [
        (
            services.SortPartiesCiviles.FGTI,
            "Verser au Fonds de garantie des victimes (FGTI) : plus de 500 € non réclamés "
            "par des victimes non indemnisées (D. 332-22)",
        ),
        (
            services.SortPartiesCiviles.REMETTRE,
            "Remettre à la personne : aucune victime n'a de créance, ou 500 € au plus",
        ),
        (
            services.SortPartiesCiviles.CONSERVER,
            "Conserver pour le créancier d'aliments titulaire d'un titre exécutoire (L. 332-2)",
        ),
    ]
    date_liberation = champ_date("Date de la libération")
    sort_parties_civiles = forms.ChoiceField(
        label="Part des parties civiles",
        choices=SORTS,
        widget=forms.RadioSelect,
        help_text="Le choix proposé est celui que donnent les textes pour ce compte ; "
        "confirmez-le ou corrigez-le.",
    )
    mode_remise = forms.ChoiceField(
        label="Remise à la personne",
        choices=services.ModeRemise.choices,
        initial=services.ModeRemise.NUMERAIRE,
        widget=forms.RadioSelect,
    )
    beneficiaire = forms.CharField(
        label="Titulaire du compte de la personne",
        max_length=70,
        required=False,
        help_text="Pour une remise par virement (par défaut : ses prénoms et nom).",
    )
    iban = forms.CharField(label="IBAN de la personne", max_length=42, required=False)
    bic = forms.CharField(label="BIC (facultatif)", max_length=11, required=False)
    fgti_nom = forms.CharField(label="FGTI : titulaire du compte", max_length=70, required=False)
    fgti_iban = forms.CharField(label="FGTI : IBAN", max_length=42, required=False)
    fgti_bic = forms.CharField(label="FGTI : BIC", max_length=11, required=False)

    def __init__(self, *args, compte, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sort_parties_civiles"].initial = services.sort_parties_civiles_propose(compte)
        self.fields["fgti_nom"].initial = getattr(settings, "PECULE_FGTI_NOM", "")
        self.fields["fgti_iban"].initial = getattr(settings, "PECULE_FGTI_IBAN", "")
        self.fields["fgti_bic"].initial = getattr(settings, "PECULE_FGTI_BIC", "")


class ChoixEcritureField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Ecriture) -> str:
        montant = f"{obj.montant:.2f}".replace(".", ",")
        return (
            f"n° {obj.pk} du {obj.date_operation:%d/%m/%Y} – {obj.get_nature_display()} – "
            f"{montant} € – {obj.motif[:60]}"
        )


class ContrepassationForm(FormulaireRegie, MotifSeulMixin):
    ecriture = ChoixEcritureField(
        label="Écriture à contre-passer",
        queryset=Ecriture.objects.none(),
        error_messages={
            "required": "Choisissez l'écriture à contre-passer.",
            "invalid_choice": "Cette écriture ne peut pas être contre-passée.",
        },
    )

    def __init__(self, *args, compte, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ecriture"].queryset = compte.ecritures.filter(
            nature__in=services.NATURES_CONTREPASSABLES, contrepassee_par__isnull=True
        ).order_by("-date_operation", "-pk")


class RemboursementForm(FormulaireRegie, DateOperationMixin, MotifSeulMixin):
    ecriture = ChoixEcritureField(
        label="Débit à rembourser",
        queryset=Ecriture.objects.none(),
        error_messages={
            "required": "Choisissez le débit à rembourser.",
            "invalid_choice": "Ce débit ne peut pas être remboursé.",
        },
    )
    montant = MontantField()
    field_order = ["ecriture", "montant", "date_operation", "motif"]

    def __init__(self, *args, compte, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ecriture"].queryset = compte.ecritures.filter(
            nature__in=list(services.NATURES_REMBOURSABLES), contrepassee_par__isnull=True
        ).order_by("-date_operation", "-pk")


# --- Ledger filters -------------------------------------------------------------------


class FiltreReleveForm(forms.Form):
    """Filters of the account's ledger, shared by the page and the CSV export."""

    date_du = champ_date("Du", required=False, initial=None)
    date_au = champ_date("Au", required=False, initial=None)
    nature = forms.ChoiceField(
        label="Nature",
        required=False,
        choices=[("", "Toutes"), *NatureEcriture.choices],
    )

    def clean(self):
        donnees = super().clean()
        debut, fin = donnees.get("date_du"), donnees.get("date_au")
        if debut and fin and debut > fin:
            raise forms.ValidationError("La date de début est postérieure à la date de fin.")
        return donnees

    def filtrer(self, ecritures):
        if not self.is_valid():
            return ecritures
        donnees = self.cleaned_data
        if donnees.get("date_du"):
            ecritures = ecritures.filter(date_operation__gte=donnees["date_du"])
        if donnees.get("date_au"):
            ecritures = ecritures.filter(date_operation__lte=donnees["date_au"])
        if donnees.get("nature"):
            ecritures = ecritures.filter(nature=donnees["nature"])
        return ecritures


# --- D.422 ----------------------------------------------------------------------------


class DemandeD422Form(FormulaireRegie):
    """The detainee's written request. The expected sender is picked among the relatives
    who registered a valid visit permit for that detainee (`emetteurs`, given by the
    caller from `regie.emetteurs`: {detainee id: [(reference, label)]}), so that their
    transfer is recognised when it arrives; or typed, for a sender without an account."""

    detenu = forms.ModelChoiceField(
        label="Personne détenue",
        queryset=Detenu.objects.none(),
        error_messages={
            "required": "Choisissez la personne détenue.",
            "invalid_choice": "Choisissez une personne détenue de votre établissement.",
        },
    )
    montant = MontantField(label="Montant demandé (€)")
    objet = forms.CharField(
        label="Objet de la dépense",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="La dépense précise et l'intérêt particulier qui la justifie "
        "(prothèse, appareil médical non pris en charge, ordinateur pour une formation…).",
        error_messages={"required": "L'objet de la dépense est obligatoire."},
    )
    emetteur_ref = forms.ChoiceField(
        label="Proche émetteur inscrit sur le portail",
        required=False,
        help_text="Les proches qui ont enregistré sur le portail un permis de visite valable "
        "pour cette personne détenue. Leur virement sera reconnu à son arrivée, et la "
        "demande leur sera présentée sur le portail.",
        error_messages={"invalid_choice": "Choisissez un proche de la liste."},
    )
    emetteur_attendu = forms.CharField(
        label="Émetteur attendu",
        max_length=200,
        required=False,
        help_text="Nom et lien avec la personne détenue (par exemple : Héloïse LEFÈVRE, sa "
        "sœur). Laissé vide, il est repris du proche choisi ci-dessus.",
    )
    reliquat = forms.ChoiceField(
        label="Sort du reliquat choisi par la personne détenue",
        choices=ChoixReliquat.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Indiquez le sort du reliquat choisi par la personne."},
    )
    date_demande = champ_date("Date de la demande écrite")

    AUCUN = "Aucun : l'émetteur n'est pas inscrit sur le portail"

    def __init__(self, *args, detenus, emetteurs=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["detenu"].queryset = detenus
        self.emetteurs = emetteurs or {}
        noms = {d.pk: str(d) for d in detenus.filter(pk__in=list(self.emetteurs))}
        groupes = [(noms[pk], choix) for pk, choix in self.emetteurs.items() if pk in noms]
        if len(groupes) == 1:
            self.fields["emetteur_ref"].choices = [("", self.AUCUN), *groupes[0][1]]
        else:
            self.fields["emetteur_ref"].choices = [("", self.AUCUN), *groupes]

    def clean_date_demande(self):
        jour = self.cleaned_data["date_demande"]
        if jour > aujourdhui():
            raise forms.ValidationError("La date de la demande ne peut pas être dans le futur.")
        return jour

    def clean(self):
        donnees = super().clean()
        reference, detenu = donnees.get("emetteur_ref"), donnees.get("detenu")
        if reference and detenu is not None:
            libelles = dict(self.emetteurs.get(detenu.pk, []))
            if reference not in libelles:
                self.add_error(
                    "emetteur_ref",
                    "Ce proche n'a pas de permis de visite valable enregistré pour cette "
                    "personne détenue.",
                )
            elif not donnees.get("emetteur_attendu", "").strip():
                # "Héloïse LEFÈVRE – permis n° PV-FRE-0003" -> "Héloïse LEFÈVRE"
                donnees["emetteur_attendu"] = libelles[reference].split(" – permis")[0]
        if not reference and not donnees.get("emetteur_attendu", "").strip():
            self.add_error(
                "emetteur_attendu",
                "Indiquez l'émetteur attendu, ou choisissez un proche inscrit sur le portail.",
            )
        return donnees


class DecisionMagistratForm(FormulaireRegie):
    decision = forms.ChoiceField(
        label="Décision du magistrat",
        choices=DecisionMagistrat.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Indiquez la décision du magistrat."},
    )
    magistrat_nom = forms.CharField(label="Magistrat chargé de l'information", max_length=200)
    reference = forms.CharField(label="Référence de la décision", max_length=100)
    date_decision = champ_date("Date de la décision")


class DecisionD422Form(FormulaireRegie):
    """The head's decision: the two submit buttons carry `decision`."""

    AUTORISER = "autoriser"
    REFUSER = "refuser"

    decision = forms.ChoiceField(
        label="Décision",
        choices=[(AUTORISER, "Autoriser"), (REFUSER, "Refuser")],
        error_messages={"required": "Choisissez d'autoriser ou de refuser la demande."},
    )
    motif = forms.CharField(
        label="Motif de la décision",
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        max_length=2000,
        error_messages={"required": "Le motif de la décision est obligatoire."},
    )

    @property
    def accorder(self) -> bool:
        return self.cleaned_data["decision"] == self.AUTORISER

    def arguments(self) -> dict:
        return {"accorder": self.accorder, "motif": self.cleaned_data["motif"]}


class SubsideD422Form(FormulaireRegie, DateOperationMixin, MotifSeulMixin):
    montant = MontantField(label="Somme reçue (€)")
    emetteur = forms.CharField(label="Émetteur", max_length=100, required=False)
    field_order = ["montant", "emetteur", "date_operation", "motif"]


class DepenseD422Form(FormulaireRegie, DateOperationMixin, MotifMixin, CoordonneesBancairesMixin):
    montant = MontantField(label="Montant de la dépense (€)")
    field_order = ["montant", "beneficiaire", "iban", "bic", "date_operation", "motif", "piece"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["piece"].help_text = "Référence de la facture du fournisseur."
        self.fields["beneficiaire"].label = "Fournisseur"

    def arguments(self) -> dict:
        arguments = super().arguments()
        arguments["fournisseur"] = arguments.pop("beneficiaire")
        return arguments


class EmetteurMixin(forms.Form):
    """The sender a D.422 remainder is returned to, when it is returned."""

    emetteur_nom = forms.CharField(
        label="Émetteur à qui restituer le reliquat",
        max_length=70,
        required=False,
        help_text="Si le reliquat est restitué : titulaire du compte d'où venait la somme.",
    )
    emetteur_iban = forms.CharField(label="IBAN de l'émetteur", max_length=42, required=False)
    emetteur_bic = forms.CharField(label="BIC (facultatif)", max_length=11, required=False)


class ClotureD422Form(FormulaireRegie, EmetteurMixin):
    date_operation = champ_date("Date de clôture")


class RenonciationD422Form(FormulaireRegie, EmetteurMixin):
    motif = forms.CharField(
        label="Motif de la renonciation",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=2000,
        error_messages={"required": "Le motif de la renonciation est obligatoire."},
    )
    choix_reliquat = forms.ChoiceField(
        label="Sort de la somme déjà reçue",
        required=False,
        choices=[("", "Celui choisi dans la demande"), *ChoixReliquat.choices],
        help_text="Si la somme est déjà arrivée : répartie selon les règles ordinaires, "
        "ou restituée à l'émetteur.",
    )

    def arguments(self) -> dict:
        # An empty choice keeps the remainder's fate chosen in the request.
        return {
            **super().arguments(),
            "choix_reliquat": self.cleaned_data["choix_reliquat"] or None,
        }


# --- Issue 12: the écrou's situation and the articles modelled since -------------------


def _texte_requis(label: str, message: str, *, max_length=200, help_text="") -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=max_length,
        help_text=help_text,
        error_messages={"required": message},
    )


class SuspensionForm(FormulaireRegie):
    type_suspension = forms.ChoiceField(
        label="Mesure", choices=TypeSuspension.choices, widget=forms.RadioSelect
    )
    date_debut = champ_date("Date de début")
    decision = _texte_requis("Décision", "La référence de la décision est obligatoire.")
    remettre_part_disponible = forms.BooleanField(
        label="Remettre la part disponible non bloquée à la personne",
        required=False,
        initial=True,
        help_text="Seule la part disponible est remise ; les parts des parties civiles et du "
        "pécule restent sur le compte jusqu'à la fin de la peine (D. 332-24).",
    )


class FinSuspensionForm(FormulaireRegie):
    date_retour = champ_date("Date du retour sous écrou")
    reference = forms.CharField(label="Référence (écrou simplifié)", max_length=200, required=False)
    nouveau_numero_ecrou = forms.CharField(
        label="Nouveau numéro d'écrou",
        max_length=20,
        required=False,
        help_text="Facultatif : le compte reste le même.",
    )


class DecesForm(FormulaireRegie):
    date_deces = champ_date("Date du décès")
    reference = _texte_requis("Acte de décès", "La référence de l'acte de décès est obligatoire.")


class IbanMixin(forms.Form):
    """The account a payment order pays, when the beneficiary's name is known otherwise."""

    iban = forms.CharField(
        label="IBAN du bénéficiaire",
        max_length=42,
        help_text="Tel qu'il figure sur la pièce ; le virement est validé par une seconde "
        "personne.",
        error_messages={"required": "L'IBAN du bénéficiaire est obligatoire."},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    bic = forms.CharField(label="BIC (facultatif)", max_length=11, required=False)


class TresorMixin(forms.Form):
    """The Trésor's account (prefilled from the settings; checked by the régisseur)."""

    tresor_nom = forms.CharField(
        label="Trésor : titulaire du compte", max_length=70, required=False
    )
    tresor_iban = forms.CharField(label="Trésor : IBAN", max_length=42, required=False)
    tresor_bic = forms.CharField(label="Trésor : BIC", max_length=11, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for champ, reglage in (
            ("tresor_nom", "PECULE_TRESOR_NOM"),
            ("tresor_iban", "PECULE_TRESOR_IBAN"),
            ("tresor_bic", "PECULE_TRESOR_BIC"),
        ):
            self.fields[champ].initial = getattr(settings, reglage, "")


class AyantsDroitForm(FormulaireRegie, DateOperationMixin, IbanMixin):
    beneficiaire = _texte_requis("Ayants droit", "Les ayants droit sont obligatoires.")
    piece = _texte_requis(
        "Pièce établissant la qualité d'ayant droit",
        "La pièce établissant la qualité d'ayant droit est obligatoire.",
        help_text="Acte de notoriété, attestation du notaire…",
    )
    field_order = ["beneficiaire", "iban", "bic", "piece", "date_operation"]


class DateOperationForm(FormulaireRegie, DateOperationMixin):
    pass


class VersementTresorForm(FormulaireRegie, DateOperationMixin, TresorMixin):
    pass


class EvasionForm(FormulaireRegie, TresorMixin):
    date_evasion = champ_date("Date de l'évasion")
    reste_du_parties_civiles = MontantField(
        label="Reste dû aux parties civiles et créanciers d'aliments (€)",
        autoriser_zero=True,
        help_text="Ce qui leur reste dû au-delà de la part des parties civiles (information du "
        "procureur, D. 332-11) ; 0 s'il n'y en a pas. La part disponible leur est affectée "
        "jusqu'à ce montant, le reliquat est versé au Trésor (L. 332-4).",
    )
    reference = _texte_requis(
        "Compte rendu d'évasion", "La référence du compte rendu d'évasion est obligatoire."
    )


class RepriseForm(FormulaireRegie):
    date_reprise = champ_date("Date de la reprise")
    reference = _texte_requis("Référence", "La référence de la reprise est obligatoire.")


class RetablissementForm(FormulaireRegie, DateOperationMixin):
    montant = MontantField()
    decision_disp = _texte_requis(
        "Décision du directeur interrégional",
        "La décision du directeur interrégional est obligatoire.",
    )


class ContrainteForm(FormulaireRegie):
    date_debut = champ_date("Date de début")
    montant_dette = MontantField(label="Dette objet de la contrainte (€)")
    reference = _texte_requis("Décision", "La référence de la décision est obligatoire.")


class PaiementContrainteForm(FormulaireRegie, DateOperationMixin, TresorMixin):
    montant = MontantField()
    piece = _texte_requis(
        "Demande écrite de la personne détenue",
        "La demande écrite de la personne détenue est obligatoire.",
    )


class FinContrainteForm(FormulaireRegie):
    date_fin = champ_date("Date de fin")
    reference = _texte_requis("Référence", "La référence est obligatoire.")


class PrescriptionJapForm(FormulaireRegie):
    type_prescription = forms.ChoiceField(
        label="Prescription", choices=TypePrescriptionJap.choices, widget=forms.RadioSelect
    )
    proportion = forms.DecimalField(
        label="Proportion du prélèvement maintenue (%)",
        required=False,
        max_digits=5,
        decimal_places=2,
        localize=True,
    )
    plafond_mensuel = MontantField(label="Prélèvement maximal par mois (€)", required=False)
    reference = _texte_requis(
        "Décision du JAP", "La référence de la décision du JAP est obligatoire."
    )
    date_decision = champ_date("Date de la décision")
    debut = champ_date("Applicable du")
    fin = champ_date("Jusqu'au (inclus)", required=False, initial=None)


class VersementVolontaireForm(FormulaireRegie, DateOperationMixin):
    montant = MontantField()
    piece = _texte_requis(
        "Demande écrite de la personne détenue",
        "La demande écrite de la personne détenue est obligatoire.",
    )


class SaisieForm(FormulaireRegie):
    creancier = _texte_requis("Créancier saisissant", "Le créancier saisissant est obligatoire.")
    reference_acte = _texte_requis(
        "Acte de saisie (commissaire de justice)",
        "La référence de l'acte de saisie est obligatoire.",
    )
    date_acte = champ_date("Date de l'acte")
    montant_cause = MontantField(label="Somme réclamée (€)")
    montant_laisse = MontantField(
        label="Montant laissé à la disposition de la personne (€)",
        autoriser_zero=True,
        help_text="Cantonnement ordonné par le juge ou somme insaisissable indiquée par l'acte "
        "(0 s'il n'y en a pas). La saisie ne porte que sur la part disponible (D. 332-20).",
    )


class PaiementSaisieForm(FormulaireRegie, DateOperationMixin, IbanMixin):
    montant = MontantField()
    piece = forms.CharField(
        label="Pièce justificative",
        max_length=200,
        required=False,
        help_text="Certificat de non-contestation, quittance…",
    )


class MainleveeForm(FormulaireRegie):
    motif = _texte_requis("Motif", "Le motif de la mainlevée est obligatoire.", max_length=2000)
    date_effet = champ_date("Date")


class PlacementLivretForm(FormulaireRegie, DateOperationMixin):
    montant = MontantField()
    reference_livret = _texte_requis("Livret A", "La référence du livret A est obligatoire.")


class RapatriementLivretForm(FormulaireRegie, DateOperationMixin, MotifSeulMixin):
    montant = MontantField()


class InteretsLivretForm(FormulaireRegie, DateOperationMixin):
    montant = MontantField()
    piece = forms.CharField(label="Relevé du livret", max_length=200, required=False)


class AideForm(FormulaireRegie, DateOperationMixin):
    piece = _texte_requis(
        "Décision d'attribution",
        "La référence de la décision d'attribution est obligatoire.",
        help_text="Décision de la commission pluridisciplinaire unique.",
    )


class DecisionAlerteForm(FormulaireRegie):
    """The chef's decision on a vigilance alert: the two buttons carry `decision`."""

    RIEN = "rien"
    SIGNALER = "signaler"

    decision = forms.ChoiceField(
        label="Décision",
        choices=[(RIEN, "Rien à signaler"), (SIGNALER, "Signaler à l'autorité judiciaire")],
        error_messages={"required": "Choisissez la décision."},
    )
    motif = forms.CharField(
        label="Motif de la décision",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=2000,
        error_messages={"required": "Le motif de la décision est obligatoire."},
    )
    autorite = forms.CharField(
        label="Autorité judiciaire avisée",
        max_length=200,
        required=False,
        help_text="Par exemple : procureur de la République près le tribunal judiciaire de …",
    )
    date_signalement = champ_date("Date du signalement", required=False, initial=None)
    reference_signalement = forms.CharField(
        label="Référence du signalement", max_length=200, required=False
    )
    retenir_credits = forms.BooleanField(
        label="Retenir les prochains crédits de cet émetteur pour cette personne",
        required=False,
        help_text="Les virements de cet émetteur seront mis « à traiter » jusqu'à la levée "
        "de la retenue. Sans cette case, la décision ne bloque aucun crédit.",
    )

    def arguments(self) -> dict:
        donnees = self.cleaned_data
        return {
            "signaler": donnees["decision"] == self.SIGNALER,
            "motif": donnees["motif"],
            "autorite": donnees["autorite"],
            "date_signalement": donnees["date_signalement"],
            "reference_signalement": donnees["reference_signalement"],
            "retenir_credits": donnees["retenir_credits"],
        }


class ConfirmationForm(FormulaireRegie):
    pass
