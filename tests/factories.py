"""factory_boy factories with deterministic data."""

import datetime
from decimal import Decimal

import factory
from django.contrib.auth.models import Group, Permission

from comptes.models import Utilisateur
from pecule.roles import ajouter_permissions_pecule
from permis.roles import ajouter_permissions_permis
from regie.models import Affectation, CompteNominatif, Detenu, Etablissement, StatutPenal
from regie.roles import synchroniser_roles

# Valid IBANs (check digits and French RIB key) for beneficiaries in tests.
IBAN_PROCHE = "FR7630006000011234567890286"
IBAN_FOURNISSEUR = "FR1420041010050500013M02606"
# A valid IBAN ending in 0000, which the sandbox bank's default rule rejects.
IBAN_REJETE = "DE94370400440532010000"


class EtablissementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Etablissement
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"ETB{n:03d}")
    nom = factory.Sequence(lambda n: f"Centre pénitentiaire n° {n}")
    regie_titulaire = factory.LazyAttribute(lambda o: f"Régie des comptes nominatifs {o.code}")
    regie_iban = "FR7630006000011234567890189"
    plafond_par_virement = Decimal("1000.00")
    plafond_mensuel_par_detenu = Decimal("5000.00")


class DetenuFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Detenu
        skip_postgeneration_save = True

    etablissement = factory.SubFactory(EtablissementFactory)
    numero_ecrou = factory.Sequence(lambda n: f"{100000 + n}")
    nom = factory.Sequence(lambda n: f"NOM{n}")
    prenoms = "Jean"
    date_naissance = datetime.date(1980, 5, 17)
    statut_penal = StatutPenal.CONDAMNE

    @factory.post_generation
    def compte(obj, create, extracted, **kwargs):
        if create:
            CompteNominatif.objects.get_or_create(detenu=obj)


class UtilisateurFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Utilisateur
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"agent{n}")
    first_name = "Agent"
    last_name = factory.Sequence(lambda n: f"N{n}")
    is_staff = True
    password = factory.django.Password("mot-de-passe-de-test-123")


def agent(role: str, *etablissements, username: str | None = None) -> Utilisateur:
    """A staff member with `role` ("Régisseur" or "Chef d'établissement") attached to
    the given establishments."""
    if not Group.objects.filter(name=role).exists():  # emptied by a transactional test
        synchroniser_roles(Group, Permission)
        ajouter_permissions_permis(Group, Permission)
        ajouter_permissions_pecule(Group, Permission)
    utilisateur = UtilisateurFactory(**({"username": username} if username else {}))
    utilisateur.groups.add(Group.objects.get(name=role))
    for etablissement in etablissements:
        Affectation.objects.get_or_create(utilisateur=utilisateur, etablissement=etablissement)
    return Utilisateur.objects.get(pk=utilisateur.pk)  # fresh permission cache
