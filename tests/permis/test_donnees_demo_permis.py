"""The demo permits match the stand-in's test identities and can be registered."""

import datetime
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from comptes.models import Utilisateur
from permis.models import PermisDeVisite
from permis.services import enregistrer_permis

pytestmark = pytest.mark.django_db

IDENTITES = json.loads(
    (Path(__file__).resolve().parents[2] / "oidc" / "identities.json").read_text()
)


def test_permis_demo_enregistrables_par_l_identite_de_test():
    call_command("donnees_demo", verbosity=0)
    call_command("donnees_demo_permis", verbosity=0)
    call_command("donnees_demo_permis", verbosity=0)
    assert PermisDeVisite.objects.count() == 6
    claims = next(i for i in IDENTITES["identities"] if i["login"] == "test")["claims"]
    angela = Utilisateur.objects.create(
        username="angela",
        fc_sub=claims["sub"],
        fc_family_name=claims["family_name"],
        fc_given_name=claims["given_name"],
        fc_birthdate=datetime.date.fromisoformat(claims["birthdate"]),
    )
    permis = PermisDeVisite.objects.get(numero="PV-FRE-0001")
    enregistrement = enregistrer_permis(
        proche=angela,
        numero="PV-FRE-0001",
        etablissement=permis.etablissement,
        numero_ecrou=permis.detenu.numero_ecrou,
        adresse_ip="127.0.0.1",
    )
    assert enregistrement.permis == permis
