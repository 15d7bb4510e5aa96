"""The demo's relatives: the stand-in's identities, a held transfer for the régisseur, a
suspended permit on « Accueil », a registered permit to name in a D.422 request."""

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from comptes.models import Utilisateur
from pecule.management.commands.donnees_demo_pecule import IDENTITES
from pecule.models import StatutRegie, Virement
from permis.models import PermisEnregistre, StatutPermis

pytestmark = pytest.mark.django_db

STAND_IN = json.loads(
    (Path(__file__).resolve().parents[2] / "oidc" / "identities.json").read_text()
)


def test_les_identites_sont_celles_du_bouchon_franceconnect():
    claims = {i["login"]: i["claims"] for i in STAND_IN["identities"]}
    for login, copie in IDENTITES.items():
        assert {cle: claims[login][cle] for cle in copie} == copie


def test_proches_de_demonstration(client):
    for commande in ("donnees_demo", "donnees_demo_permis", "donnees_demo_pecule"):
        call_command(commande, verbosity=0, stdout=io.StringIO())
    call_command("donnees_demo_pecule", stdout=io.StringIO())  # safe to run twice

    martin = Utilisateur.objects.get(fc_sub=IDENTITES["martin"]["sub"])
    virements = Virement.objects.filter(proche=martin).order_by("cree_le", "pk")
    assert [v.statut_regie for v in virements] == [StatutRegie.CREDITE, StatutRegie.A_TRAITER]
    assert "pour un même proche" in virements[1].motif_a_traiter
    enregistrements = PermisEnregistre.objects.filter(proche=martin).select_related("permis")
    assert {e.permis.numero: e.permis.statut for e in enregistrements} == {
        "PV-FRE-0002": StatutPermis.ACTIF,
        "PV-LYC-0002": StatutPermis.SUSPENDU,
    }
    heloise = Utilisateur.objects.get(fc_sub=IDENTITES["heloise"]["sub"])
    assert PermisEnregistre.objects.filter(proche=heloise, permis__numero="PV-FRE-0003").exists()
    assert str(heloise) == "Héloïse Éléonore LEFÈVRE"
