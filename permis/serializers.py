"""Input and output of the information systems' API (French field names, as the models)."""

from rest_framework import serializers

from regie.models import Detenu, Regime, StatutPenal
from socle.dates import aujourdhui

from .models import PermisDeVisite, StatutPermis, normaliser_numero


class ErreurSerializer(serializers.Serializer):
    """An error that is not about one field (401, 403, 404, 409, 429)."""

    detail = serializers.CharField(help_text="Message en français.")
    code = serializers.CharField(help_text="Code stable, pour les machines.")


class PermisSerializer(serializers.ModelSerializer):
    """A permit as recorded."""

    etablissement = serializers.CharField(source="etablissement.code", read_only=True)
    numero_ecrou = serializers.CharField(
        source="detenu.numero_ecrou",
        read_only=True,
        help_text="Numéro d'écrou actuel de la personne détenue.",
    )
    valide_aujourdhui = serializers.SerializerMethodField(
        help_text="Le permis permet aujourd'hui aux proches qui l'ont enregistré "
        "d'alimenter le pécule."
    )

    class Meta:
        model = PermisDeVisite
        fields = [
            "numero",
            "etablissement",
            "numero_ecrou",
            "titulaire_nom",
            "titulaire_prenoms",
            "titulaire_date_naissance",
            "lien",
            "date_debut",
            "date_fin",
            "statut",
            "motif_statut",
            "valide_aujourdhui",
            "cree_le",
            "modifie_le",
        ]
        read_only_fields = fields

    def get_valide_aujourdhui(self, obj) -> bool:
        return obj.est_valide(aujourdhui())


class PermisEcritureSerializer(serializers.Serializer):
    """Create (POST, all required fields) or change (PATCH, any of them) a permit.

    `numero_ecrou` designates a detainee held in the token's establishment."""

    numero = serializers.CharField(
        max_length=40, help_text="Numéro du permis ; enregistré sans espaces, en majuscules."
    )
    numero_ecrou = serializers.CharField(max_length=20)
    titulaire_nom = serializers.CharField(max_length=150, help_text="Nom de naissance.")
    titulaire_prenoms = serializers.CharField(
        max_length=150, help_text="Prénoms de l'état civil (tous, ou le premier), dans l'ordre."
    )
    titulaire_date_naissance = serializers.DateField()
    lien = serializers.CharField(max_length=100, required=False, allow_blank=True)
    date_debut = serializers.DateField()
    date_fin = serializers.DateField(required=False, allow_null=True)
    statut = serializers.ChoiceField(
        choices=StatutPermis.choices, required=False, help_text="« actif » par défaut."
    )
    motif_statut = serializers.CharField(max_length=300, required=False, allow_blank=True)

    def validate_numero(self, valeur):
        numero = normaliser_numero(valeur)
        if not numero:
            raise serializers.ValidationError("Ce champ ne peut être vide.", code="blank")
        if self.instance is not None and numero != self.instance.numero:
            raise serializers.ValidationError(
                "Le numéro d'un permis ne peut pas être modifié.", code="non_modifiable"
            )
        return numero

    def validate_numero_ecrou(self, valeur):
        detenu = Detenu.objects.filter(
            etablissement=self.context["etablissement"], numero_ecrou=valeur.strip()
        ).first()
        if detenu is None:
            raise serializers.ValidationError(
                "Aucune personne détenue n'a ce numéro d'écrou dans l'établissement.",
                code="detenu_inconnu",
            )
        if detenu.libere_le is not None:
            raise serializers.ValidationError("Cette personne a été libérée.", code="detenu_libere")
        return detenu

    def validate(self, attrs):
        debut = attrs.get("date_debut", getattr(self.instance, "date_debut", None))
        fin = attrs.get("date_fin", getattr(self.instance, "date_fin", None))
        if debut and fin and fin < debut:
            raise serializers.ValidationError(
                {"date_fin": "La date de fin doit être postérieure à la date de début."},
                code="dates",
            )
        return attrs

    def champs_du_service(self) -> dict:
        """The validated data under the service's names (`detenu`, not `numero_ecrou`)."""
        donnees = dict(self.validated_data)
        if "numero_ecrou" in donnees:
            donnees["detenu"] = donnees.pop("numero_ecrou")
        return donnees


class MotifSerializer(serializers.Serializer):
    motif = serializers.CharField(
        max_length=300,
        required=False,
        allow_blank=True,
        help_text="Interne à l'administration ; n'est pas montré au proche.",
    )


class DetenuSerializer(serializers.ModelSerializer):
    """A detainee as recorded in Pécule."""

    etablissement = serializers.CharField(source="etablissement.code", read_only=True)

    class Meta:
        model = Detenu
        fields = [
            "numero_ecrou",
            "etablissement",
            "nom",
            "prenoms",
            "date_naissance",
            "statut_penal",
            "regime",
            "prive_de_subsides_jusquau",
            "libere_le",
        ]
        read_only_fields = fields


class DetenuEcritureSerializer(serializers.Serializer):
    """Create or update a detainee of the token's establishment.

    `statut_penal` and `regime` left out keep their value (on creation: « prevenu » and
    « ordinaire »); `prive_de_subsides_jusquau` left out keeps its value, null clears it.
    The release date and the establishment are not accepted: a release or a transfer
    moves money and is done by the régie."""

    nom = serializers.CharField(max_length=150)
    prenoms = serializers.CharField(max_length=150)
    date_naissance = serializers.DateField()
    statut_penal = serializers.ChoiceField(choices=StatutPenal.choices, required=False)
    regime = serializers.ChoiceField(choices=Regime.choices, required=False)
    prive_de_subsides_jusquau = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="Privation de subsides (sanction disciplinaire) jusqu'à cette date incluse.",
    )
